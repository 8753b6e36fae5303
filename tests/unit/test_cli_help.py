"""Every ``inferia`` subcommand says what it does in ``--help``."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from inferia.cli import build_parser


def _commands(parser: argparse.ArgumentParser, prefix: str) -> Iterator[tuple[str, str]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{prefix} {name}", helps.get(name, "")
                yield from _commands(sub, f"{prefix} {name}")


def test_every_subcommand_has_help() -> None:
    commands = dict(_commands(build_parser(), "inferia"))
    assert "inferia models get" in commands
    assert [name for name, text in commands.items() if not text.strip()] == []
