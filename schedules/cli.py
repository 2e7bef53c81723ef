"""The ``himjobs`` command line. Each group of commands lives in its own ``cli_*`` module."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="himjobs")
def main() -> None:
    """himjobs: US health-information jobs (records technicians, coders, registrars), collected,
    labelled and delivered."""


# Each module below registers its commands on `main` when imported (one line per module).
from schedules import (
    cli_classifier,  # noqa: E402,F401
    cli_crawl,  # noqa: E402,F401
    cli_delivery,  # noqa: E402,F401
    cli_schedule,  # noqa: E402,F401
    cli_serve,  # noqa: E402,F401
)
