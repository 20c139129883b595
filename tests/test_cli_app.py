"""`dsenv.cli.app.app_for`: running one command builds only that command, and behaves exactly as
the whole app does."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dsenv.cli.app import _command_name, _group_name, app, app_for

NAMES = sorted(
    {_command_name(c) for c in app.registered_commands}
    | {_group_name(g) for g in app.registered_groups} - {None}
)


def test_every_command_and_group_has_a_name() -> None:
    assert len(NAMES) == len(app.registered_commands) + len(app.registered_groups)
    assert {"validate", "plan", "up", "ci", "image", "eject"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_one_command_app_gives_the_same_help_as_the_whole_app(name: str) -> None:
    one = app_for([name, "--help"])
    assert one is not app
    assert len(one.registered_commands) + len(one.registered_groups) == 1
    runner = CliRunner()
    alone, whole = runner.invoke(one, [name, "--help"]), runner.invoke(app, [name, "--help"])
    assert alone.exit_code == whole.exit_code == 0
    assert alone.output == whole.output


@pytest.mark.parametrize("args", [[], ["--help"], ["--version"], ["nosuch"]])
def test_anything_but_a_command_name_gets_the_whole_app(args: list[str]) -> None:
    assert app_for(args) is app


def test_shell_completion_gets_the_whole_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_DSENV_COMPLETE", "complete_bash")
    assert app_for(["validate"]) is app


def test_a_command_run_alone_reports_errors_like_the_whole_app() -> None:
    runner = CliRunner()
    args = ["validate", "no/such/folder"]
    alone, whole = runner.invoke(app_for(args), args), runner.invoke(app, args)
    assert alone.exit_code == whole.exit_code != 0
    assert alone.stderr == whole.stderr
