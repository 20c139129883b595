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
from typer.main import get_command_name
from typer.models import CommandInfo, TyperInfo

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


_SETTINGS: dict[str, Any] = {
    "name": "dsenv",
    "help": "Declarative data-science environments: team profiles in, Pulumi programs out.",
    "no_args_is_help": True,
    "pretty_exceptions_enable": False,
    # plain Click help: rendering it with rich costs ~85 ms of imports on every `--help`
    "rich_markup_mode": None,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
app = _App(**_SETTINGS)

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


def app_for(args: list[str]) -> typer.Typer:
    """The app to run for command-line `args`: when they name one command (or command group),
    an app holding only that one. Typer turns every registered command into a Click command
    before parsing, reading each signature and its type hints; doing it for the one command
    being run saves about 25 ms of every invocation. Help, `--version`, shell completion and
    unknown names get the whole app."""
    if not args or os.environ.get("_DSENV_COMPLETE"):
        return app
    commands = [c for c in app.registered_commands if _command_name(c) == args[0]]
    groups = [g for g in app.registered_groups if _group_name(g) == args[0]]
    if not commands and not groups:
        return app
    one = _App(**_SETTINGS)
    one.registered_callback = app.registered_callback
    one.registered_commands = commands
    one.registered_groups = groups
    return one


def _command_name(info: CommandInfo) -> str | None:
    if isinstance(info.name, str):
        return info.name
    return get_command_name(info.callback.__name__) if info.callback else None


def _group_name(info: TyperInfo) -> str | None:
    for name in (info.name, info.typer_instance.info.name if info.typer_instance else None):
        if isinstance(name, str):
            return name
    return None


def main() -> None:
    app_for(sys.argv[1:])()
