"""What tests share: where the example profiles and the upstream reference data are, and
how to find the external checkers. (A module of its own: `conftest` names differ per folder.)"""

from __future__ import annotations

import os
import shutil
import sys
from functools import cache
from pathlib import Path

import pytest

from dsenv.offline.graph import ResourceGraph
from dsenv.profile.load import load_team
from dsenv.spec.expand import expand_profile
from dsenv.spec.model import EnvironmentSpec

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "profiles"
#: Upstream charts and CRDs, read in place from the shared folder beside the repository.
UPSTREAM = ROOT.parent / "shared" / "upstream"
TEAM_PROFILES = sorted(p for p in PROFILES.glob("*.yaml"))


def tool(name: str, how: str) -> str:
    """An external checker's executable: `DSENV_<NAME>`, beside this Python, or on PATH.

    Missing, the test skips with `how` to install it, except under CI (CI set), where every
    checker must run for real and a missing one fails the test.
    """
    override = os.environ.get(f"DSENV_{name.upper()}")
    beside = Path(sys.executable).parent / name
    found = override or (str(beside) if beside.is_file() else shutil.which(name))
    if found and Path(found).is_file():
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed, and CI must run it ({how})")
    pytest.skip(f"{name} is not installed: {how}")


@cache
def spec_of(name: str) -> EnvironmentSpec:
    """The expanded example profile `profiles/<name>.yaml`."""
    return expand_profile(load_team(PROFILES / f"{name}.yaml"))


@cache
def graph_of(name: str) -> ResourceGraph:
    """Its resource graph, from the real program under the SDK's mock runtime."""
    from dsenv.offline.capture import capture_spec

    return capture_spec(spec_of(name))


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """Run dsenv in this process the way its console script does (`main`: the one error
    handler included, which CliRunner bypasses): (exit code, stdout, stderr)."""
    import contextlib
    import io

    from dsenv.cli.app import app_for

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            app_for(args)(args=args, prog_name="dsenv")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()
