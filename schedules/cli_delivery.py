"""``himjobs feed``, ``subscribe``, ``unsubscribe``, ``subscriptions`` and ``digest``: delivery to job seekers.

Every command takes ``--db`` (the public database, default himjobs.db); the subscription commands and
``digest`` also take ``--private-db`` (default: beside the public one, ``himjobs-private.db``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from schedules.cli import main
from scraper.errors import HimjobsError

FilterOptions = dict[str, Any]

_db_option = click.option("--db", "db_path", default="himjobs.db", show_default=True, envvar="HIMJOBS_DB",
                          help="Public database file.")
_private_option = click.option("--private-db", "private_db", default=None, type=click.Path(dir_okay=False),
                               help="Private database of subscriptions (default: beside --db, NAME-private.db).")


def _filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The filters shared by feeds and subscriptions; list filters are repeatable or comma lists."""
    options = [
        click.option("--role", multiple=True, help="technician, coder, registrar or other (repeatable or comma list)."),
        click.option("--seniority", multiple=True, help="entry, mid, senior or manager."),
        click.option("--arrangement", multiple=True, help="remote, hybrid or onsite."),
        click.option("--state", multiple=True, help="US two-letter state code, e.g. TX."),
        click.option("--credential", multiple=True, help="A credential the posting names, e.g. CPC or RHIT."),
        click.option("--min-salary", "min_salary", default=None,
                     help="Least yearly pay (hourly x2080, monthly x12), e.g. 45000 or 45k."),
        click.option("--keyword", default=None, help="Words that must all occur in the title or description."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _filters(options: FilterOptions):
    from store.filters import FilterError, parse_filters

    try:
        return parse_filters({k: v for k, v in options.items() if v not in (None, ())})
    except FilterError as exc:
        raise click.UsageError(str(exc)) from None


def _private_path(db_path: str, private_db: str | None) -> Path:
    from store.private import private_db_path

    return private_db_path(db_path, private_db)


@main.command()
@_db_option
@_filter_options
@click.option("--format", "fmt", type=click.Choice(["atom", "rss", "json"]), default="atom", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="Most entries.")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Write here instead of stdout.")
def feed(db_path: str, fmt: str, limit: int, output: str | None, **filter_options: Any) -> None:
    """One filtered feed of open postings, newest first, each job once."""
    from feeds.render import feed_page, render_feed
    from store.queries import open_public_read_only

    filters = _filters(filter_options)
    try:
        db = open_public_read_only(db_path)
    except HimjobsError as exc:
        raise click.ClickException(str(exc)) from None
    page = feed_page(db, filters, fmt, limit=limit)
    _, body = render_feed(page, fmt)
    if output:
        Path(output).write_text(body, encoding="utf-8")
        click.echo(f"{len(page.entries)} postings ({filters.describe()}) written to {output}", err=True)
    else:
        sys.stdout.write(body)


@main.command()
@click.argument("email")
@_db_option
@_private_option
@_filter_options
@click.option("--timezone", "tz", default="America/New_York", show_default=True,
              help="IANA timezone of the subscriber, e.g. America/Chicago.")
@click.option("--hour", type=int, default=7, show_default=True, help="Local hour (0-23) the digest goes out.")
def subscribe(email: str, db_path: str, private_db: str | None, tz: str, hour: int, **filter_options: Any) -> None:
    """Subscribe EMAIL to a daily digest (subscribing again replaces the filters)."""
    from store.subscribers import SubscriptionError, open_private_db
    from store.subscribers import subscribe as store_subscribe

    filters = _filters(filter_options)
    try:
        db = open_private_db(_private_path(db_path, private_db))
        subscriber, created = store_subscribe(db, email, filters, timezone=tz, hour=hour)
    except SubscriptionError as exc:
        raise click.UsageError(str(exc)) from None
    except HimjobsError as exc:
        raise click.ClickException(str(exc)) from None
    verb = "Subscribed" if created else "Updated"
    click.echo(f"{verb} {subscriber.email}: {filters.describe()}, daily at {hour:02d}:00 {subscriber.timezone}")


@main.command()
@click.argument("email")
@_db_option
@_private_option
def unsubscribe(email: str, db_path: str, private_db: str | None) -> None:
    """Stop the digest to EMAIL (what was sent stays logged, so subscribing again never repeats it)."""
    from store.subscribers import open_private_db
    from store.subscribers import unsubscribe as store_unsubscribe

    try:
        subscriber = store_unsubscribe(open_private_db(_private_path(db_path, private_db)), email)
    except HimjobsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Unsubscribed {subscriber.email}")


@main.command()
@_db_option
@_private_option
@click.option("--all", "show_all", is_flag=True, help="Include unsubscribed addresses.")
def subscriptions(db_path: str, private_db: str | None, show_all: bool) -> None:
    """List the digest subscriptions."""
    from store.subscribers import list_subscribers, open_private_db

    try:
        subscribers = list_subscribers(open_private_db(_private_path(db_path, private_db)), active_only=not show_all)
    except HimjobsError as exc:
        raise click.ClickException(str(exc)) from None
    if not subscribers:
        click.echo("No subscriptions.")
    for s in subscribers:
        state = "" if s.active else "  (unsubscribed)"
        last = s.last_digest_on or "never"
        click.echo(f"{s.email:<36} {s.hour:02d}:00 {s.timezone:<20} last digest {last:<10}  {s.filters.describe()}{state}")


@main.command()
@_db_option
@_private_option
@click.option("--send", is_flag=True, help="Send through SMTP (HIMJOBS_SMTP_* environment variables).")
@click.option("--outbox", type=click.Path(file_okay=False), default=None, help="Write .eml files to this folder.")
@click.option("--due-only", is_flag=True, help="Only subscribers whose local digest hour has come today.")
def digest(db_path: str, private_db: str | None, send: bool, outbox: str | None, due_only: bool) -> None:
    """Send each subscriber the postings new to them; no message when nothing is new.

    Exits 1 when a message could not be sent; its postings go out on the next run.
    """
    from feeds.digest import run_digest
    from feeds.smtp import OutboxSender, SmtpSender

    if send == bool(outbox):
        raise click.UsageError("choose one of --send (SMTP) or --outbox DIR (.eml files)")
    try:
        sender = SmtpSender.from_env() if send else OutboxSender(Path(outbox or ""))
        result = run_digest(db_path, _private_path(db_path, private_db), sender=sender, due_only=due_only)
    except HimjobsError as exc:
        raise click.ClickException(str(exc)) from None
    where = "sent" if send else f"written to {outbox}"
    click.echo(f"{result.sent} digests {where}, {result.skipped} with nothing new, {result.failed} failed")
    for error in result.errors:
        click.echo(f"  failed: {error}", err=True)
    if result.failed:
        sys.exit(1)
