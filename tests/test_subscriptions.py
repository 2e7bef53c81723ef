"""Digest subscriptions in the private database (issue: "Invalid e-mail or filter values get a clear error
(and store nothing). Subscribing again updates the filters. Each subscriber gets a random unsubscribe token")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from schedules.cli import main
from store.filters import parse_filters
from store.subscribers import (
    SubscriptionError,
    list_subscribers,
    open_private_db,
    subscribe,
    unsubscribe,
    unsubscribe_token,
)


@pytest.fixture
def private(tmp_path: Path) -> sqlite_utils.Database:
    return open_private_db(tmp_path / "jobs-private.db")


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_subscribers_table_has_the_columns_the_scheduler_reads(private):
    assert {"email", "filters", "timezone", "hour", "token", "created_at", "active"} <= set(private["subscribers"].columns_dict)
    pk = [c.name for c in private["digest_log"].columns if c.is_pk]
    assert pk == ["subscriber_id", "posting_id"]  # what makes a posting go to someone at most once


def test_subscribe_then_subscribe_again_updates_filters_and_keeps_token(private):
    first, created = subscribe(private, "Sam@Example.ORG", parse_filters({"role": "coder"}), now="2026-11-20T10:00:00Z")
    assert created and first.email == "sam@example.org"
    assert (first.timezone, first.hour, first.active) == ("America/New_York", 7, True)
    assert len(first.token) >= 30
    again, created = subscribe(private, "sam@example.org", parse_filters({"role": "registrar", "arrangement": "remote"}),
                               timezone="America/Chicago", hour=6, now="2026-11-21T10:00:00Z")
    assert not created and again.id == first.id and again.token == first.token
    assert again.filters == parse_filters({"role": "registrar", "arrangement": "remote"})
    assert (again.timezone, again.hour, again.created_at) == ("America/Chicago", 6, "2026-11-20T10:00:00Z")
    assert private["subscribers"].count == 1
    other, _ = subscribe(private, "kim@example.org", parse_filters({}))
    assert other.token != first.token


@pytest.mark.parametrize("email, kwargs, message", [
    ("not-an-email", {}, "'not-an-email' is not an e-mail address"),
    ("a@b", {}, "is not an e-mail address"),
    ("two@@example.org", {}, "is not an e-mail address"),
    ("x y@example.org", {}, "is not an e-mail address"),
    ("ok@example.org", {"timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
    ("ok@example.org", {"timezone": "../../etc/passwd"}, "unknown timezone"),
    ("ok@example.org", {"hour": 24}, "hour 24 must be between 0 and 23"),
])
def test_invalid_subscription_stores_nothing(private, email, kwargs, message):
    with pytest.raises(SubscriptionError, match=message):
        subscribe(private, email, parse_filters({}), **kwargs)
    assert private["subscribers"].count == 0


def test_unsubscribe_by_email_and_by_token(private):
    sam, _ = subscribe(private, "sam@example.org", parse_filters({}))
    kim, _ = subscribe(private, "kim@example.org", parse_filters({}))
    unsubscribe(private, "SAM@example.org")
    assert unsubscribe_token(private, kim.token) == "kim@example.org"
    assert unsubscribe_token(private, "forged-token") is None
    assert list_subscribers(private) == []
    assert [s.email for s in list_subscribers(private, active_only=False)] == ["kim@example.org", "sam@example.org"]
    with pytest.raises(SubscriptionError, match="no subscription for nobody@example.org"):
        unsubscribe(private, "nobody@example.org")
    # Subscribing again reactivates the same row (and its digest log).
    back, created = subscribe(private, "sam@example.org", parse_filters({}))
    assert not created and back.id == sam.id and back.active


def test_cli_subscribe_list_unsubscribe_beside_the_public_db(tmp_path):
    db = tmp_path / "jobs.db"
    result = invoke("subscribe", "sam@example.org", "--db", str(db), "--role", "coder,technician",
                    "--arrangement", "remote", "--seniority", "entry", "--timezone", "America/Denver", "--hour", "6")
    assert result.exit_code == 0, result.output
    assert "Subscribed sam@example.org: coder or technician · remote · entry, daily at 06:00 America/Denver" in result.output
    private = tmp_path / "jobs-private.db"  # store.private.private_db_path
    row = next(sqlite_utils.Database(private).query("select * from subscribers"))
    assert json.loads(row["filters"]) == {"arrangement": ["remote"], "role": ["coder", "technician"], "seniority": ["entry"]}
    assert not db.exists()  # the public database is not touched by subscribing

    listing = invoke("subscriptions", "--db", str(db))
    assert "sam@example.org" in listing.output and "America/Denver" in listing.output

    assert invoke("unsubscribe", "sam@example.org", "--db", str(db)).exit_code == 0
    assert "No subscriptions." in invoke("subscriptions", "--db", str(db)).output
    assert "(unsubscribed)" in invoke("subscriptions", "--db", str(db), "--all").output
    missing = invoke("unsubscribe", "kim@example.org", "--db", str(db))
    assert missing.exit_code == 1 and "no subscription for kim@example.org" in missing.output


@pytest.mark.parametrize("args, message", [
    (["nope", "--role", "coder"], "'nope' is not an e-mail address"),
    (["sam@example.org", "--role", "biller"], "role 'biller' is not one of: coder, technician, registrar, other"),
    (["sam@example.org", "--state", "Texas"], "state 'Texas' is not one of"),
    (["sam@example.org", "--hour", "25"], "hour 25 must be between 0 and 23"),
    (["sam@example.org", "--timezone", "EST5"], "unknown timezone 'EST5'"),
])
def test_cli_subscribe_refuses_bad_input_and_stores_nothing(tmp_path, args, message):
    private = tmp_path / "elsewhere" / "subs.db"
    private.parent.mkdir()
    result = invoke("subscribe", *args, "--db", str(tmp_path / "jobs.db"), "--private-db", str(private))
    assert result.exit_code == 2 and message in result.output
    assert not private.exists() or sqlite_utils.Database(private)["subscribers"].count == 0
