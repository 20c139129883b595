"""The Typer application. Each area's commands live in `dsenv.cli.commands.<area>`.

Command modules import heavy libraries (Pulumi above all) inside the command functions, so
`dsenv --help`, `validate`, `schema`, `explain` and `init` never import Pulumi.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any

import typer

from dsenv.errors import DsenvError, ExitCode


class _App(typer.Typer):
    """Typer with dsenv's one error handler: a DsenvError prints its message and exits
    with its code; anything else is a bug, reported without a traceback unless DSENV_DEBUG
    is set."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except DsenvError as exc:
            typer.echo(exc.render(), err=True)
            sys.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            if os.environ.get("DSENV_DEBUG"):
                raise
            typer.echo(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in dsenv; rerun with DSENV_DEBUG=1 for the traceback.",
                err=True,
            )
            sys.exit(int(ExitCode.OPERATIONAL))


app = _App(
    name="dsenv",
    help="Declarative data-science environments: team profiles in, Pulumi programs out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # plain Click help: rendering it with rich costs ~85 ms of imports on every `--help`
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: Command modules, in the order their commands appear in `dsenv --help`.
COMMAND_MODULES = (
    "profiles",  # validate, schema, explain, init
    "offline",  # plan, diff, render, check, cost, graph
    "live",  # preview, up, refresh, destroy, outputs, restore, doctor, drift, ci init
    "image",  # image dockerfile|devcontainer|tag|workflow, eject
)


def _version(value: bool) -> None:
    if value:
        from dsenv import __version__

        typer.echo(f"dsenv {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Declarative data-science environments: team profiles in, Pulumi programs out."""


for _module in COMMAND_MODULES:
    importlib.import_module(f"dsenv.cli.commands.{_module}").register(app)


def main() -> None:
    app()
