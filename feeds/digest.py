"""The daily e-mail digest: for each subscriber, the new postings matching their filters, each job once.

Settings: ``HIMJOBS_PUBLIC_URL`` (default http://127.0.0.1:8001) for the one-click unsubscribe link
``{base}/-/unsubscribe?token=...``; SMTP settings are in ``feeds.smtp``.

Exactly once. ``digest_log`` has one row per (subscriber, posting) ever sent, and for each subscriber
the run holds the private database's write lock (BEGIN IMMEDIATE) from reading that log until the row
is committed: it reads what was sent, sends the message, and commits the log only after the mail server
accepted it. A failed send rolls back, so those postings go out on the next run; a second run (even a
concurrent one) finds them logged and sends nothing. The one window left is a crash after the server
accepted a message and before the commit (microseconds: nothing else happens in between), where the
message would be sent again on the next run — at-least-once there, never lost.

Candidates are postings first seen in the last ``WINDOW`` (a new subscriber gets the past week, not
the whole archive), at most ``MAX_POSTINGS`` a message (the rest follow the next day). A job already
sent under another board's id (a copy in its duplicate group) counts as sent.
"""

from __future__ import annotations

import email.policy
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import jinja2
import sqlite_utils

from feeds.present import Shown, show
from feeds.render import public_url
from feeds.smtp import Sender
from scraper.timestamps import iso_utc
from store.filters import ROLES
from store.queries import matching_postings, open_public_read_only
from store.subscribers import (
    Subscriber,
    already_sent,
    find,
    list_subscribers,
    mark_digest_done,
    open_private_db,
    record_sent,
)

WINDOW = timedelta(days=7)
MAX_POSTINGS = 100
# Headers may be 998 characters (RFC 5322); at the default 78 a long List-Unsubscribe URL would be
# RFC 2047-encoded, which mail clients do not decode there, so the unsubscribe button would break.
MESSAGE_POLICY = email.policy.default.clone(max_line_length=998)

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass
class DigestResult:
    sent: int = 0  # messages accepted
    failed: int = 0  # messages refused or not delivered; retried on the next run
    skipped: int = 0  # subscribers with nothing new (no message)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Group:
    label: str
    postings: list[Shown]


def unsubscribe_url(token: str) -> str:
    return f"{public_url()}/-/unsubscribe?{urlencode({'token': token})}"


def local_date(subscriber: Subscriber, now: datetime) -> str:
    return now.astimezone(ZoneInfo(subscriber.timezone)).date().isoformat()


def is_due(subscriber: Subscriber, now: datetime) -> bool:
    """Their local clock has reached their hour today, and no digest run finished for them today."""
    local = now.astimezone(ZoneInfo(subscriber.timezone))
    return local.hour >= subscriber.hour and (subscriber.last_digest_on or "") < local.date().isoformat()


def group_by_role(postings: list[Shown]) -> list[Group]:
    """Groups in the order of store/data/filters.toml, each newest first."""
    groups = []
    for role, label in ROLES.items():
        members = sorted((p for p in postings if p.role == role), key=lambda p: (p.published, p.id), reverse=True)
        if members:
            groups.append(Group(label, members))
    return groups


def build_message(subscriber: Subscriber, postings: list[Shown], *, from_address: str, now: datetime) -> EmailMessage:
    """A multipart/alternative digest (plain text, then HTML with inline styles) with List-Unsubscribe."""
    groups = group_by_role(postings)
    description = subscriber.filters.describe()
    count = len(postings)
    subject = f"{count} new health-information job{'s' if count != 1 else ''}: {description}"
    local = now.astimezone(ZoneInfo(subscriber.timezone))
    context = {
        "subject": subject, "count": count, "description": description, "groups": groups,
        "date_text": f"{local:%A, %B} {local.day}, {local.year}",
        "hour_text": f"{subscriber.hour:02d}:00", "timezone": subscriber.timezone,
        "unsubscribe_url": unsubscribe_url(subscriber.token),
    }
    reply_to = parseaddr(from_address)[1]
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["From"] = from_address
    message["To"] = subscriber.email
    message["Subject"] = subject
    message["Date"] = format_datetime(now.astimezone(timezone.utc))
    message["Message-ID"] = make_msgid("digest", domain=reply_to.rpartition("@")[2] or "himjobs.invalid")
    message["List-Unsubscribe"] = (f"<mailto:{reply_to}?subject={quote('unsubscribe ' + subscriber.token)}>, "
                                   f"<{context['unsubscribe_url']}>")
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_TEMPLATES.get_template("digest.txt").render(context), cte="quoted-printable")
    message.add_alternative(_TEMPLATES.get_template("digest.html").render(context), subtype="html",
                            cte="quoted-printable")
    return message


def new_postings(public: sqlite_utils.Database, private: sqlite_utils.Database, subscriber: Subscriber,
                 now: datetime) -> list[dict]:
    """The rows to send: matching, in the window, and no copy of the job sent to them before."""
    since = iso_utc(now - WINDOW)
    rows = matching_postings(public, subscriber.filters, limit=None, first_seen_since=since)
    sent = already_sent(private, subscriber.id, (pid for row in rows for pid in (row["id"], *row["copies"])))
    return [row for row in rows if not ({row["id"], *row["copies"]} & sent)][:MAX_POSTINGS]


def run_digest(db_path: str | Path, private_db_path: str | Path, *, sender: Sender, now: datetime | None = None,
               due_only: bool = False) -> DigestResult:
    """Send each (due) active subscriber their digest through ``sender``; see the module docstring."""
    now = now or datetime.now(timezone.utc)
    public = open_public_read_only(db_path)
    private = open_private_db(private_db_path)
    private.conn.isolation_level = None  # transactions are begun and ended explicitly below
    result = DigestResult()
    try:
        for subscriber in list_subscribers(private):
            if due_only and not is_due(subscriber, now):
                continue
            _deliver(public, private, subscriber.email, sender, now, due_only, result)
    finally:
        public.close()
        private.close()
    return result


def _deliver(public: sqlite_utils.Database, private: sqlite_utils.Database, email: str, sender: Sender,
             now: datetime, due_only: bool, result: DigestResult) -> None:
    private.execute("BEGIN IMMEDIATE")
    try:
        # Read again under the lock: a concurrent run or an unsubscribe may have come first.
        subscriber = find(private, email)
        if subscriber is None or not subscriber.active or (due_only and not is_due(subscriber, now)):
            private.execute("ROLLBACK")
            return
        rows = new_postings(public, private, subscriber, now)
        if rows:
            message = build_message(subscriber, [show(row, now) for row in rows], from_address=sender.from_address,
                                    now=now)
            sent_ids = [pid for row in rows for pid in (row["id"], *row["copies"])]
            sent_at = iso_utc(now)
            sender.send(message)
            # Accepted: log it at once. A crash before this commit is the only way to a second copy.
            record_sent(private, subscriber.id, sent_ids, sent_at=sent_at, message_id=message["Message-ID"])
        mark_digest_done(private, subscriber.id, local_date(subscriber, now))
        private.execute("COMMIT")
    except (smtplib.SMTPException, OSError) as exc:
        private.execute("ROLLBACK")
        result.failed += 1
        result.errors.append(f"{email}: {exc}")
        return
    except BaseException:
        private.execute("ROLLBACK")
        raise
    if rows:
        result.sent += 1
    else:
        result.skipped += 1
