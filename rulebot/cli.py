"""The `rulebot` command line: typer structures, rich displays.

The product goes to stdout (diagnostics, JSON, tables); everything else (summaries, logs,
progress) goes to stderr. Exit codes are one enum shared by every command.
"""

from __future__ import annotations

import sys
from enum import Enum, IntEnum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from rulebot import __version__

app = typer.Typer(
    name="rulebot",
    help="A rules engine for trading on Bybit: write rules in plain words, lint, explain, backtest, run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class ExitCode(IntEnum):
    """0: all good; 1: problems found (lint errors, a failed run); 2: could not run at all."""

    OK = 0
    PROBLEMS = 1
    CANNOT_RUN = 2


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"rulebot {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """rulebot: lint, explain and run trading rules for Bybit."""


@app.command()
def lint(
    paths: Annotated[list[Path], typer.Argument(help="Rule files (.yaml/.yml) or folders holding them.")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
) -> None:
    """Check rule files without touching the network.

    Exit status: 0 no errors, 1 at least one error, 2 a path could not be read.
    """
    from rulebot.lang.lint import lint_paths
    from rulebot.lang.diagnostics import render_json, render_text, strict as make_strict, summary

    report = lint_paths([str(p) for p in paths])
    diagnostics = make_strict(report.diagnostics) if strict else list(report.diagnostics)
    if format is OutputFormat.json:
        sys.stdout.write(render_json(diagnostics))
    else:
        sys.stdout.write(render_text(diagnostics, report.lines))
    for problem in report.unreadable:
        _stderr().print(f"[red]error[/red]: {problem}", markup=True)
    _stderr().print(summary(diagnostics, report.files_checked))
    if report.unreadable:
        raise typer.Exit(ExitCode.CANNOT_RUN)
    raise typer.Exit(ExitCode.PROBLEMS if any(d.is_error for d in diagnostics) else ExitCode.OK)


def main() -> None:
    """Entry point of the `rulebot` script."""
    app()
