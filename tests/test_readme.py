"""The README documents every command (docs that a test keeps honest)."""

from pathlib import Path

import click

from schedules.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: str = "himjobs") -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, path))
        else:
            paths.append(path)
    return paths


def test_every_command_has_a_readme_section_with_a_real_shell_line():
    paths = command_paths(main)
    assert {"himjobs demo", "himjobs crawl", "himjobs classify"} <= set(paths)
    for path in paths:
        assert f"### `{path}" in README, f"README has no section for {path}"
        assert f"$ {path}" in README or f"$ .venv/bin/{path}" in README, f"README shows no shell line for {path}"


def test_readme_gives_the_two_commands_first():
    head = README[: README.index("\n## ", README.index("\n## ") + 1)]
    assert "make demo" in head and "make test" in head
