"""The e-mail digest, sent through smtplib to a real aiosmtpd server on 127.0.0.1 (issue: "Exactly once: a
(subscriber, posting) pair is never sent twice — not when the digest runs twice in a day, not when SMTP fails
half-way and the run is repeated. A failed send is retried on the next run, not lost")."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from conftest import free_port
from test_feeds import XSS_TITLE, build_jobs_db, labels, posting, store

from feeds.digest import run_digest
from feeds.smtp import OutboxSender, SmtpSender
from schedules.cli import main
from scraper.errors import ConfigError
from store.database import open_db
from store.filters import parse_filters
from store.subscribers import open_private_db, subscribe, unsubscribe

NOW = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)  # 08:00 in New York
FROM = "himjobs <jobs@himjobs.example>"


class Handler:
    """Accepts every message, except that ``fail`` maps the Nth message (1-based) to a refusal reply."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.attempts = 0
        self.fail: dict[int, str] = {}

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.attempts in self.fail:
            return self.fail[self.attempts]
        # SMTP carries CRLF line ends; compare text as a reader sees it.
        content = envelope.content.replace(b"\r\n", b"\n")
        self.messages.append(email.message_from_bytes(content, policy=email.policy.default))
        return "250 2.0.0 OK"

    def to(self) -> Counter:
        return Counter(m["To"] for m in self.messages)


class MailServer:
    """aiosmtpd on a fixed loopback port that can be stopped and started again (a fresh Controller each time:
    a stopped one cannot restart)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    handler = Handler()
    server = MailServer(handler)
    server.start()
    yield handler, server, SmtpSender(host="127.0.0.1", port=server.port, tls="none", from_address=FROM, timeout=5)
    server.stop()


@pytest.fixture
def dbs(tmp_path: Path):
    public = tmp_path / "jobs.db"
    build_jobs_db(public)
    return public, tmp_path / "jobs-private.db"


def add(private_path: Path, email_address: str, **filters: str) -> None:
    subscribe(open_private_db(private_path), email_address, parse_filters(filters))


def test_digest_content_structure_headers_and_grouping(dbs, smtp, monkeypatch):
    public, private = dbs
    handler, _, sender = smtp
    monkeypatch.setenv("HIMJOBS_PUBLIC_URL", "https://jobs.example.org/")
    add(private, "sam@example.org", role="coder,technician,registrar", arrangement="remote,hybrid")
    token = next(open_private_db(private).query("select token from subscribers"))["token"]

    result = run_digest(public, private, sender=sender, now=NOW)
    assert (result.sent, result.failed, result.skipped, result.errors) == (1, 0, 0, [])
    [message] = handler.messages
    assert message["To"] == "sam@example.org" and message["From"] == FROM
    assert message["Subject"] == "6 new health-information jobs: coder or technician or registrar · remote or hybrid"
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@himjobs.example>")
    assert email.utils.parsedate_to_datetime(message["Date"]) == NOW
    unsubscribe_url = f"https://jobs.example.org/-/unsubscribe?token={token}"
    assert message["List-Unsubscribe"] == (f"<mailto:jobs@himjobs.example?subject=unsubscribe%20{token}>, "
                                           f"<{unsubscribe_url}>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    text, markup = (p.get_content() for p in parts)

    # Grouped by role in a fixed order, each group newest first; the ATS copy of board:1 is not repeated.
    headings = [line for line in text.splitlines() if line.isupper() and "(" in line]
    assert headings == ["MEDICAL CODING (4)", "HEALTH INFORMATION & MEDICAL RECORDS (1)", "CANCER AND OTHER REGISTRIES (1)"]
    coding = text.split("MEDICAL CODING")[1].split("HEALTH INFORMATION")[0].splitlines()
    titles = [line for line in coding if line in {"Coding Specialist, posted date unreadable", "Remote Coder I",
                                                  "Clinical Coder (UK)", "Coder I"}]
    assert titles == ["Coding Specialist, posted date unreadable", "Remote Coder I", "Clinical Coder (UK)", "Coder I"]
    assert text.count("Remote Coder I") == 1
    for fact in ("$22–$27.50 an hour", "posted 2 days ago", "Apply: https://jobs.example.org/board/1",
                 "from $60,000 a year · Hybrid · Mid level · ODS", unsubscribe_url):
        assert fact in text
    assert "Patient Access Registrar" not in text  # role other, not asked for

    # HTML: inline styles only (mail clients drop <style>), the same postings, the one-click link.
    assert "<style" not in markup and 'style="' in markup
    assert markup.index("Medical coding (4)") < markup.index("Health information &amp; medical records (1)")
    assert f'href="{unsubscribe_url}"' in markup
    assert '<a href="https://jobs.example.org/board/1"' in markup
    # The hostile posting: no markup of its own, no javascript: link.
    assert "<script" not in markup and "onerror" not in markup and "javascript:" not in markup
    assert "alert(" not in markup and "alert(" not in text

    # Run again the same day: nothing new, no message.
    again = run_digest(public, private, sender=sender, now=NOW)
    assert (again.sent, again.skipped) == (0, 1) and len(handler.messages) == 1


def test_new_postings_only_and_a_job_seen_on_another_board_is_not_new(dbs, smtp):
    public, private = dbs
    handler, _, sender = smtp
    add(private, "sam@example.org", role="registrar")
    assert run_digest(public, private, sender=sender, now=NOW).sent == 1

    db = open_db(public)
    store(db, "board", [(posting("20", "Trauma Registrar", posted_at="2026-11-20"), labels("registrar"))],
          now="2026-11-20T20:00:00Z")
    # The registrar job sent yesterday reappears on a second board, which becomes the canonical copy.
    store(db, "ats", [(posting("3", "Cancer Registrar", source="ats", posted_at="2026-11-16"), labels("registrar"))],
          now="2026-11-20T20:00:00Z")
    db.execute("update postings set duplicate_of = 'ats:3' where id = 'board:3'")
    db.conn.commit()

    tomorrow = datetime(2026, 11, 21, 13, 0, tzinfo=timezone.utc)
    assert run_digest(public, private, sender=sender, now=tomorrow).sent == 1
    second = handler.messages[1].get_body(("plain",)).get_content()
    assert "Trauma Registrar" in second and "Cancer Registrar" not in second
    assert handler.messages[1]["Subject"].startswith("1 new health-information job:")


def test_smtp_refusal_of_one_message_does_not_hold_back_the_others_and_is_retried(dbs, smtp):
    public, private = dbs
    handler, _, sender = smtp
    for name in ("ann", "bob", "cy"):
        add(private, f"{name}@example.org", role="coder")
    handler.fail = {2: "451 4.3.0 Mailbox temporarily unavailable"}

    first = run_digest(public, private, sender=sender, now=NOW)
    assert (first.sent, first.failed) == (2, 1)
    assert first.errors[0].startswith("bob@example.org: ") and "451" in first.errors[0]
    assert handler.to() == {"ann@example.org": 1, "cy@example.org": 1}

    second = run_digest(public, private, sender=sender, now=NOW)
    assert (second.sent, second.failed, second.skipped) == (1, 0, 2)
    assert handler.to() == {"ann@example.org": 1, "bob@example.org": 1, "cy@example.org": 1}
    bob = [m for m in handler.messages if m["To"] == "bob@example.org"][0]
    assert "Remote Coder I" in bob.get_body(("plain",)).get_content()


def test_server_failing_half_way_then_rerun_sends_each_posting_exactly_once(dbs, smtp):
    """Three subscribers; the second message is refused (554) and the server then goes away. On the next
    run, with the server back, the failed one and the third go out; nobody gets anything twice."""
    public, private = dbs
    handler, controller, sender = smtp
    for name in ("ann", "bob", "cy"):
        add(private, f"{name}@example.org", arrangement="remote")

    class StopsAfterRefusal:
        from_address = FROM

        def send(self, message: EmailMessage) -> None:
            try:
                sender.send(message)
            except Exception:
                controller.stop()  # the mail server dies right after refusing the second message
                raise

    handler.fail = {2: "554 5.3.0 Transaction failed"}
    first = run_digest(public, private, sender=StopsAfterRefusal(), now=NOW)
    assert (first.sent, first.failed) == (1, 2)
    assert "554" in first.errors[0] and first.errors[1].startswith("cy@example.org: ")
    assert handler.to() == {"ann@example.org": 1}

    controller.start()
    second = run_digest(public, private, sender=sender, now=NOW)
    assert (second.sent, second.failed, second.skipped) == (2, 0, 1)
    third = run_digest(public, private, sender=sender, now=NOW)
    assert (third.sent, third.skipped) == (0, 3)
    assert handler.to() == {"ann@example.org": 1, "bob@example.org": 1, "cy@example.org": 1}
    log = open_private_db(private).query("select subscriber_id, posting_id, count(*) n from digest_log "
                                         "group by 1, 2 having n > 1")
    assert list(log) == []
    bodies = [m.get_body(("plain",)).get_content() for m in handler.messages]
    assert all("Remote Coder I" in b for b in bodies)


def test_due_only_follows_each_subscribers_local_hour_once_a_day(dbs, tmp_path):
    public, private = dbs
    subscribe(open_private_db(private), "la@example.org", parse_filters({"role": "coder"}),
              timezone="America/Los_Angeles", hour=7)
    subscribe(open_private_db(private), "ny@example.org", parse_filters({"role": "registrar"}),
              timezone="America/New_York", hour=7)
    outbox = OutboxSender(tmp_path / "outbox")

    def run(stamp: str):
        return run_digest(public, private, sender=outbox, due_only=True,
                          now=datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc))

    assert (run("2026-11-20T11:59:00").sent, run("2026-11-20T11:59:00").skipped) == (0, 0)  # 06:59 in New York
    assert run("2026-11-20T12:00:00").sent == 1  # 07:00 in New York; 04:00 in Los Angeles
    assert run("2026-11-20T14:30:00").sent == 0  # New York done for today
    assert run("2026-11-20T15:00:00").sent == 1  # 07:00 in Los Angeles
    assert (run("2026-11-20T23:00:00").sent, run("2026-11-20T23:00:00").skipped) == (0, 0)
    # Next local day: both are due again; nothing new, so no message, but the day is marked done.
    next_day = run("2026-11-21T16:00:00")
    assert (next_day.sent, next_day.skipped) == (0, 2)
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    parsed = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert sorted(m["To"] for m in parsed) == ["la@example.org", "ny@example.org"]


def test_unsubscribed_get_nothing(dbs, tmp_path):
    public, private = dbs
    add(private, "sam@example.org")
    unsubscribe(open_private_db(private), "sam@example.org")
    result = run_digest(public, private, sender=OutboxSender(tmp_path / "out"), now=NOW)
    assert (result.sent, result.skipped, result.failed) == (0, 0, 0)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("env, message", [
    ({}, "HIMJOBS_SMTP_HOST is not set"),
    ({"HIMJOBS_SMTP_HOST": "mail.example.org"}, "HIMJOBS_SMTP_FROM is not set"),
    ({"HIMJOBS_SMTP_HOST": "h", "HIMJOBS_SMTP_FROM": "a@b.org", "HIMJOBS_SMTP_TLS": "yes"}, "HIMJOBS_SMTP_TLS 'yes'"),
    ({"HIMJOBS_SMTP_HOST": "h", "HIMJOBS_SMTP_FROM": "a@b.org", "HIMJOBS_SMTP_PORT": "smtp"}, "HIMJOBS_SMTP_PORT 'smtp'"),
    ({"HIMJOBS_SMTP_HOST": "h", "HIMJOBS_SMTP_FROM": "a@b.org", "HIMJOBS_SMTP_USER": "u"}, "HIMJOBS_SMTP_PASSWORD is not"),
    ({"HIMJOBS_SMTP_HOST": "h", "HIMJOBS_SMTP_FROM": "nobody"}, "HIMJOBS_SMTP_FROM 'nobody' is not an e-mail"),
])
def test_smtp_settings_errors_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        SmtpSender.from_env(env)


def test_smtp_settings_defaults():
    sender = SmtpSender.from_env({"HIMJOBS_SMTP_HOST": "mail.example.org", "HIMJOBS_SMTP_FROM": "a@b.org",
                                  "HIMJOBS_SMTP_TLS": "ssl"})
    assert (sender.port, sender.tls, sender.user) == (465, "ssl", None)


def test_cli_digest_outbox_send_and_errors(dbs, smtp, tmp_path, monkeypatch):
    public, private = dbs
    handler, controller, _ = smtp
    add(private, "sam@example.org", role="registrar")
    add(private, "kim@example.org", role="technician")
    runner = CliRunner()
    for name in ("HOST", "PORT", "USER", "PASSWORD", "FROM", "TLS"):
        monkeypatch.delenv(f"HIMJOBS_SMTP_{name}", raising=False)

    result = runner.invoke(main, ["digest", "--db", str(public), "--send"])
    assert result.exit_code == 1 and "HIMJOBS_SMTP_HOST is not set" in result.output
    assert runner.invoke(main, ["digest", "--db", str(public)]).exit_code == 2

    result = runner.invoke(main, ["digest", "--db", str(public), "--outbox", str(tmp_path / "outbox")])
    assert result.exit_code == 0, result.output
    assert "2 digests written to" in result.output
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2

    # The same subscribers through SMTP with their own private db copy: the outbox run logged theirs.
    monkeypatch.setenv("HIMJOBS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HIMJOBS_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("HIMJOBS_SMTP_FROM", FROM)
    monkeypatch.setenv("HIMJOBS_SMTP_TLS", "none")
    other = tmp_path / "other-private.db"
    add(other, "sam@example.org", role="registrar")
    result = runner.invoke(main, ["digest", "--db", str(public), "--private-db", str(other), "--send"])
    assert result.exit_code == 0, result.output
    assert "1 digests sent, 0 with nothing new, 0 failed" in result.output
    assert handler.to() == {"sam@example.org": 1}

    handler.fail = {2: "451 4.3.0 try later"}
    add(other, "new@example.org", role="coder")
    result = runner.invoke(main, ["digest", "--db", str(public), "--private-db", str(other), "--send"])
    assert result.exit_code == 1 and "failed: new@example.org" in result.output


def test_hostile_title_arrives_as_plain_text_in_the_digest(dbs, tmp_path):
    public, private = dbs
    add(private, "sam@example.org", keyword="ICD")
    run_digest(public, private, sender=OutboxSender(tmp_path / "out"), now=NOW)
    [eml] = (tmp_path / "out").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    assert "Coder I" in text and XSS_TITLE not in text and "<img" not in text


def test_two_digest_runs_at_once_send_once(dbs, tmp_path):
    """The scheduler and a hand-run `himjobs digest` overlapping: the per-subscriber write lock makes the
    second run see the first one's log instead of sending again."""
    public, private = dbs
    add(private, "sam@example.org", role="coder")
    outbox = OutboxSender(tmp_path / "out")

    class Slow:
        from_address = outbox.from_address

        def send(self, message: EmailMessage) -> None:
            time.sleep(0.3)  # the other run starts while this message is "on the wire"
            outbox.send(message)

    results = []
    runs = [threading.Thread(target=lambda: results.append(run_digest(public, private, sender=Slow(), now=NOW)))
            for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert sorted((r.sent, r.skipped) for r in results) == [(0, 1), (1, 0)]
    assert len(list((tmp_path / "out").glob("*.eml"))) == 1
