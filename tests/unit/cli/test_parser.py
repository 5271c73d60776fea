"""Every subcommand, discovered from the parser: bad arguments are one line and exit 2, and
every option explains itself and its default in `--help`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from thunes.cli import build_parser, main
from thunes.cli.parsing import shows_default

Command = tuple[tuple[str, ...], argparse.ArgumentParser]


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[Command]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands(build_parser()))
STRICT_TYPES = (None, str, Path)


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    skip = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)
    return [a for a in parser._actions if a.option_strings and not isinstance(a, skip)]


def _bad_invocations() -> Iterator[tuple[str, list[str]]]:
    for path, parser in COMMANDS.items():
        yield " ".join(path), [*path, "--no-such-option"]
        for action in _options(parser):
            if action.nargs == 0:
                continue
            if action.choices is not None or action.type not in STRICT_TYPES:
                option = action.option_strings[-1]
                yield f"{' '.join(path)} {option}", [*path, option, "not-a-value"]


def test_the_sweep_finds_every_subcommand() -> None:
    names = {path[0] for path in COMMANDS}
    assert {"run", "sim", "backtest", "optimize", "report", "demo", "status"} <= names
    assert ("audit", "verify") in COMMANDS


@pytest.mark.parametrize(("label", "argv"), list(_bad_invocations()), ids=lambda v: str(v))
def test_every_subcommand_refuses_bad_arguments_in_one_line(
    label: str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2, label
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "error:" in err


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_every_option_has_help_and_shows_its_default(path: tuple[str, ...]) -> None:
    parser = COMMANDS[path]
    formatter = parser._get_formatter()
    for action in _options(parser):
        name = f"{' '.join(path)} {action.option_strings[-1]}"
        if action.help == argparse.SUPPRESS:
            continue
        assert action.help, f"{name} has no help text"
        if shows_default(action):
            text = formatter._expand_help(action)
            assert "default" in text and str(action.default) in text, f"{name}: {text}"
