"""``himjobs config check``: a bad config names the entry and the field; the default one checks clean."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from schedules.cli import main
from scraper.config import DEFAULT_CONFIG

GOOD_SOURCE = '[[source]]\nname = "coders"\nkind = "greenhouse"\nboard = "acme"\n'

# (what is wrong, config text, fragments the error must contain: where, which field, why)
BAD_CONFIGS = [
    ("missing name", '[[source]]\nkind = "ashby"\nboard = "x"\n',
     ["[[source]] #1", "field 'name' is missing"]),
    ("missing name in the second entry", GOOD_SOURCE + '[[source]]\nname = ""\nkind = "ashby"\nboard = "x"\n',
     ["[[source]] #2", "field 'name'"]),
    ("unknown kind", '[[source]]\nname = "jobs"\nkind = "monster"\n',
     ["source 'jobs'", "field 'kind'", "unknown kind 'monster'", "greenhouse"]),
    ("missing kind", '[[source]]\nname = "jobs"\nboard = "x"\n',
     ["source 'jobs'", "field 'kind' is missing"]),
    ("greenhouse without a board", '[[source]]\nname = "gh"\nkind = "greenhouse"\n',
     ["source 'gh'", "field 'board' is required for kind 'greenhouse'"]),
    ("base_url that is not http(s)", GOOD_SOURCE + 'base_url = "ftp://127.0.0.1/jobs"\n',
     ["source 'coders'", "field 'base_url' must be an http(s) URL", "ftp://127.0.0.1/jobs"]),
    ("base_url without a host", GOOD_SOURCE + 'base_url = "http://"\n',
     ["source 'coders'", "field 'base_url'"]),
    ("interval in words", GOOD_SOURCE + 'interval = "6 hours"\n',
     ["source 'coders'", "field 'interval'", "'6 hours' is not a duration"]),
    ("zero interval", GOOD_SOURCE + 'interval = "0s"\n',
     ["source 'coders'", "field 'interval' must be more than zero"]),
    ("duplicate name", GOOD_SOURCE + GOOD_SOURCE,
     ["source 'coders'", "field 'name' repeats an earlier source"]),
    ("unknown section", '[sources]\nname = "x"\n' + GOOD_SOURCE,
     ["unknown section(s) sources"]),
    ("field the kind does not take", GOOD_SOURCE + 'token = "abc"\n',
     ["source 'coders'", "unknown field(s) token for kind 'greenhouse'"]),
    ("enabled as a string", GOOD_SOURCE + 'enabled = "no"\n',
     ["source 'coders'", "field 'enabled' must be true or false"]),
    ("schedule duration in words", '[schedule]\ncrawl_interval = "twice a day"\n\n' + GOOD_SOURCE,
     ["[schedule] crawl_interval", "'twice a day' is not a duration"]),
    ("unknown schedule setting", '[schedule]\ncrawl_every = "6h"\n\n' + GOOD_SOURCE,
     ["[schedule]", "unknown setting(s) crawl_every"]),
    ("unknown fetch setting", '[fetch]\nspeed = 3\n\n' + GOOD_SOURCE,
     ["[fetch]", "unknown setting 'speed'"]),
    ("not TOML", '[[source]\nname = "x"\n',
     ["not valid TOML"]),
]


@pytest.mark.parametrize("problem, text, fragments", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_a_bad_config_is_rejected_with_the_entry_and_field_named(tmp_path: Path, problem: str, text: str,
                                                                  fragments: list[str]) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["config", "check", "--config", str(path)])
    assert result.exit_code == 1, result.output
    assert str(path) in result.output  # which file
    for fragment in fragments:
        assert fragment in result.output, (problem, result.output)


def test_a_missing_config_file_is_named() -> None:
    result = CliRunner().invoke(main, ["config", "check", "--config", "/nonexistent/sources.toml"])
    assert result.exit_code == 1 and "/nonexistent/sources.toml: no such configuration file" in result.output


def test_the_default_config_checks_clean_and_is_summarised_by_kind() -> None:
    result = CliRunner().invoke(main, ["config", "check"])
    assert result.exit_code == 0, result.output
    entries = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))["source"]
    assert f"sources: {len(entries)} " in result.output
    lines = result.output.splitlines()
    for kind, n in Counter(e["kind"] for e in entries).items():
        assert any(line.split()[:2] == [kind, str(n)] for line in lines), (kind, result.output)
    assert "schedule: crawl_interval 6h" in result.output


def test_config_check_shows_each_source_interval_override(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[schedule]\ncrawl_interval = "90m"\n\n' + GOOD_SOURCE + 'interval = "1h"\nenabled = false\n')
    result = CliRunner().invoke(main, ["config", "check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "sources: 1 (0 enabled)" in result.output and "coders (disabled)" in result.output
    assert "crawl_interval 90m" in result.output and "coders every 1h" in result.output
