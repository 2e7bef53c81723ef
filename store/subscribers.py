"""Digest subscriptions and the digest log, kept in the private database (never served by Datasette).

Tables:
- ``subscribers``: ``email`` (unique, lower-cased), ``filters`` (JSON of ``store.filters.FeedFilter``),
  ``timezone`` (IANA name, default America/New_York: the seekers are in the US), ``hour`` (0–23, local,
  default 7), ``token`` (random, for one-click unsubscribe), ``created_at``, ``updated_at``, ``active``
  (0 after unsubscribing; the row and its log stay, so subscribing again never resends old postings),
  ``last_digest_on`` (the subscriber's local date of the last digest run that finished for them).
- ``digest_log``: one row per (subscriber_id, posting_id) ever sent — the primary key is what makes
  a posting go to a subscriber at most once.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils

from scraper.errors import HimjobsError
from store.database import StoreError, utc_now
from store.filters import FeedFilter

DEFAULT_TIMEZONE = "America/New_York"
DEFAULT_HOUR = 7
# A digest holds the private database's write lock while one message is handed to SMTP; anything
# else writing meanwhile (a `subscribe`) waits rather than failing.
BUSY_TIMEOUT_MS = 60_000
# Deliberately simple: one @, no spaces, a dotted domain. Deliverability is the mail server's call.
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]{1,64}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class SubscriptionError(HimjobsError):
    """A subscription request is invalid (e-mail, timezone, hour) or names no subscriber."""


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    filters: FeedFilter
    timezone: str
    hour: int
    token: str
    created_at: str
    active: bool
    last_digest_on: str | None

    @classmethod
    def from_row(cls, row: dict) -> Subscriber:
        return cls(id=row["id"], email=row["email"], filters=FeedFilter.from_json(row["filters"]),
                   timezone=row["timezone"], hour=row["hour"], token=row["token"], created_at=row["created_at"],
                   active=bool(row["active"]), last_digest_on=row["last_digest_on"])


def open_private_db(path: str | Path) -> sqlite_utils.Database:
    """The private database at ``path`` in WAL mode, its tables ensured."""
    try:
        db = sqlite_utils.Database(path)
        db.enable_wal()
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not db["subscribers"].exists():
            db["subscribers"].create(
                {"id": int, "email": str, "filters": str, "timezone": str, "hour": int, "token": str,
                 "created_at": str, "updated_at": str, "active": int, "last_digest_on": str},
                pk="id", not_null={"email", "filters", "timezone", "hour", "token", "created_at", "active"},
            )
            db["subscribers"].create_index(["email"], unique=True)
            db["subscribers"].create_index(["token"], unique=True)
        if not db["digest_log"].exists():
            db["digest_log"].create(
                {"subscriber_id": int, "posting_id": str, "sent_at": str, "message_id": str},
                pk=("subscriber_id", "posting_id"), foreign_keys=[("subscriber_id", "subscribers", "id")],
            )
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot be used as a himjobs private database ({exc})") from None
    return db


def normalize_email(raw: str) -> str:
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise SubscriptionError(f"{raw!r} is not an e-mail address (expected name@example.org)")
    return email


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SubscriptionError(f"unknown timezone {name!r}: use an IANA name such as America/Chicago or UTC") from None
    return name


def check_hour(hour: int) -> int:
    if not 0 <= hour <= 23:
        raise SubscriptionError(f"hour {hour} must be between 0 and 23 (local time of the daily digest)")
    return hour


def subscribe(db: sqlite_utils.Database, email: str, filters: FeedFilter, *, timezone: str = DEFAULT_TIMEZONE,
              hour: int = DEFAULT_HOUR, now: str | None = None) -> tuple[Subscriber, bool]:
    """Create the subscription, or update the filters and schedule of an existing one (and reactivate it).
    Everything is validated before anything is written. Returns (subscriber, created)."""
    address = normalize_email(email)
    values = {"filters": filters.to_json(), "timezone": check_timezone(timezone), "hour": check_hour(hour),
              "updated_at": now or utc_now(), "active": 1}
    with db.conn:
        existing = find(db, address)
        if existing is None:
            db["subscribers"].insert({"email": address, "token": secrets.token_urlsafe(24),
                                      "created_at": values["updated_at"], **values})
        else:
            db["subscribers"].update(existing.id, values)
    subscriber = find(db, address)
    assert subscriber is not None
    return subscriber, existing is None


def unsubscribe(db: sqlite_utils.Database, email: str) -> Subscriber:
    """Deactivate the subscription of ``email``; raises SubscriptionError when there is none."""
    address = normalize_email(email)
    subscriber = find(db, address)
    if subscriber is None:
        raise SubscriptionError(f"no subscription for {address}")
    with db.conn:
        db.execute("update subscribers set active = 0, updated_at = ? where id = ?", [utc_now(), subscriber.id])
    return subscriber


def unsubscribe_token(db: sqlite_utils.Database, token: str) -> str | None:
    """One-click unsubscribe: deactivate the subscriber holding ``token``; their e-mail, or None."""
    row = next(db.query("select id, email from subscribers where token = ?", [token]), None)
    if row is None:
        return None
    with db.conn:
        db.execute("update subscribers set active = 0, updated_at = ? where id = ?", [utc_now(), row["id"]])
    return row["email"]


def find(db: sqlite_utils.Database, email: str) -> Subscriber | None:
    row = next(db.query("select * from subscribers where email = ?", [email]), None)
    return Subscriber.from_row(row) if row else None


def list_subscribers(db: sqlite_utils.Database, *, active_only: bool = True) -> list[Subscriber]:
    sql = "select * from subscribers" + (" where active = 1" if active_only else "") + " order by email"
    return [Subscriber.from_row(row) for row in db.query(sql)]


def already_sent(db: sqlite_utils.Database, subscriber_id: int, posting_ids: Iterable[str]) -> set[str]:
    """Which of ``posting_ids`` have gone to the subscriber in an earlier digest."""
    ids = list(posting_ids)
    sent: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        sent.update(r["posting_id"] for r in db.query(
            f"select posting_id from digest_log where subscriber_id = ? and posting_id in ({', '.join('?' * len(chunk))})",
            [subscriber_id, *chunk]))
    return sent


def record_sent(db: sqlite_utils.Database, subscriber_id: int, posting_ids: Iterable[str], *, sent_at: str,
                message_id: str) -> None:
    """Log postings as sent to the subscriber, inside the caller's transaction (plain SQL: sqlite-utils'
    own writes would commit it early)."""
    db.conn.executemany(
        "insert or ignore into digest_log (subscriber_id, posting_id, sent_at, message_id) values (?, ?, ?, ?)",
        [(subscriber_id, pid, sent_at, message_id) for pid in posting_ids],
    )


def mark_digest_done(db: sqlite_utils.Database, subscriber_id: int, local_date: str) -> None:
    db.execute("update subscribers set last_digest_on = ? where id = ?", [local_date, subscriber_id])
