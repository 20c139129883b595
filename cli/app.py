"""The Typer application. Each area's commands live in `dsenv.cli.commands.<area>`.

Command modules import heavy libraries (Pulumi above all) inside the command functions, so
`dsenv --help`, `validate`, `schema`, `explain` and `init` never import Pulumi.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated

import typer

from dsenv import __version__
from dsenv.errors import DsenvError, ExitCode

app = typer.Typer(
    name="dsenv",
    help="Declarative data-science environments: team profiles in, Pulumi programs out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: Command modules, in the order their commands appear in `dsenv --help`.
COMMAND_MODULES = (
    "profiles",  # validate, schema, explain, init
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dsenv {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Declarative data-science environments: team profiles in, Pulumi programs out."""


for _module in COMMAND_MODULES:
    importlib.import_module(f"dsenv.cli.commands.{_module}").register(app)


def main() -> None:
    """Entry point: run the app; user errors print a message and exit with their code."""
    try:
        app(standalone_mode=False)
    except DsenvError as exc:
        typer.echo(exc.render(), err=True)
        sys.exit(int(exc.exit_code))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(int(ExitCode.OPERATIONAL))
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, keep the traceback for DSENV_DEBUG
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(int(ExitCode.BAD_INPUT) if isinstance(exc, click.UsageError) else exc.exit_code)
        if os.environ.get("DSENV_DEBUG"):
            raise
        typer.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in dsenv; rerun with DSENV_DEBUG=1 for the traceback.",
            err=True,
        )
        sys.exit(int(ExitCode.OPERATIONAL))
