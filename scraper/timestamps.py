"""The one timestamp format himjobs stores and compares: UTC ISO-8601 to the second, ``2026-11-23T12:00:00Z``.

Strings in this format sort in time order, so SQLite compares them without parsing.
"""

from __future__ import annotations

from datetime import datetime, timezone

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def iso_utc(moment: datetime | None = None) -> str:
    """``moment`` (an aware datetime; now when None) as a stored timestamp."""
    return (moment or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime(FORMAT)
