"""Provider plugins and snapshots through the real command line, against the stand-in CLI:
what the end-to-end run (test_e2e.py) cannot produce; tests/live/README.md says why each
stays here."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from testkit import PROFILES, spec_of
from typer.testing import CliRunner

from dsenv.cli.app import app
from dsenv.errors import DsenvError
from dsenv.live.events import Recorder
from dsenv.live.plugins import sdk_plugin

from .conftest import Standin, team_resources

pytestmark = pytest.mark.slow

runner = CliRunner()
SANDBOX = PROFILES / "sandbox.yaml"


def invoke(*args: str) -> tuple[int, str]:
    """dsenv's exit code and output (CliRunner hands DsenvErrors back instead of exiting)."""
    result = runner.invoke(app, list(args))
    if isinstance(result.exception, DsenvError):
        return int(result.exception.exit_code), result.output + result.exception.render()
    return int(result.exit_code), result.output


def kube_resources(stack: str) -> list[dict[str, Any]]:
    """The sandbox targets an existing cluster: no AWS resources, so no AWS provider."""
    return [r for r in team_resources(stack) if not r["type"].startswith("aws:")]


def sandbox_stack(standin: Standin, **scenario: Any) -> str:
    stack = spec_of("sandbox").stack_name
    standin.scenario(stack, desired=kube_resources(stack), **scenario)
    return stack


def test_snapshots_keep_secrets_encrypted_in_files_only_the_user_can_read(
    engine: Any, standin: Standin
) -> None:
    desired = team_resources("acme-secret")
    desired[3]["secrets"] = {"password": "hunter2-plaintext"}
    standin.scenario("acme-secret", desired=desired)
    stack = engine.open("acme-secret", lambda: None)
    stack.up(Recorder())
    snapshot = stack.up(Recorder()).snapshot  # the state before the second update
    assert snapshot is not None and snapshot.resources == 4
    text = snapshot.path.read_text()
    assert "hunter2-plaintext" not in text and '"ciphertext": "v1:' in text
    assert stat.S_IMODE(snapshot.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(snapshot.path.parent.stat().st_mode) == 0o700
    # the CLI would decrypt it on request: the check above can fail
    shown = subprocess.run(
        ["pulumi", "stack", "export", "--stack", "acme-secret", "--show-secrets"],
        env={**os.environ, "PULUMI_BACKEND_URL": f"file://{standin.backend}"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "hunter2-plaintext" in shown
    stack.restore(snapshot)  # and a snapshot still restores
    assert len(stack.resources()) == 4


# -- provider plugins ---------------------------------------------------------------------


def test_missing_plugins_are_installed_before_the_preview(
    standin: Standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ambient plugins dsenv installs each at its SDK's version before the engine
    runs; here the download fails (no network), so the command stops with exit 3 and says
    how to install the plugin from a file; nothing ran."""
    standin.without_ambient_plugins(monkeypatch)
    sandbox_stack(standin)
    code, out = invoke("preview", str(SANDBOX))
    kubernetes = sdk_plugin("kubernetes")
    assert code == 3, out
    assert f"could not install the kubernetes provider plugin v{kubernetes.version}" in out
    assert f"pulumi plugin install resource kubernetes {kubernetes.version} --file PATH" in out
    assert standin.calls("plugin install") == [
        ["plugin", "install", "resource", "kubernetes", kubernetes.version]
    ]
    assert standin.calls("preview") == []


def test_a_plugin_installed_from_a_file_as_the_hint_says_is_used(
    standin: Standin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    standin.without_ambient_plugins(monkeypatch)
    sandbox_stack(standin)
    kubernetes = sdk_plugin("kubernetes")
    binary = tmp_path / "pulumi-resource-kubernetes"
    binary.write_text("#!/bin/sh\n")
    subprocess.run(
        ["pulumi", *kubernetes.install_args(), "--file", str(binary)],
        env=os.environ,
        check=True,
        capture_output=True,
    )
    code, out = invoke("preview", str(SANDBOX))
    assert code == 0, out
    assert standin.calls("preview")


def test_with_acquisition_disabled_a_missing_plugin_is_reported_not_fetched(
    standin: Standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.without_ambient_plugins(monkeypatch)
    monkeypatch.setenv("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    sandbox_stack(standin)
    code, out = invoke("preview", str(SANDBOX))
    assert code == 3 and "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION" in out
    assert "--file PATH" in out
    assert standin.calls("plugin install") == []


def test_ignored_ambient_plugins_are_not_counted(
    standin: Standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_IGNORE_AMBIENT_PLUGINS", "1")
    sandbox_stack(standin)
    code, _ = invoke("preview", str(SANDBOX))
    assert code == 3 and standin.calls("plugin install")


def test_doctor_lists_plugins_and_the_backend(
    standin: Standin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DSENV_BACKEND", f"file://{tmp_path / 'not-yet'}")
    code, out = invoke("doctor")
    kubernetes, aws = sdk_plugin("kubernetes"), sdk_plugin("aws")
    assert f"OK   plugin kubernetes v{kubernetes.version}: ambient:" in out
    assert f"OK   plugin aws v{aws.version}: ambient:" in out
    assert f"WARN state backend: {tmp_path / 'not-yet'} does not exist yet" in out
    standin.without_ambient_plugins(monkeypatch)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setenv("DSENV_BACKEND", f"file://{locked / 'state'}")
    code, out = invoke("doctor")
    assert f"WARN plugin kubernetes v{kubernetes.version}: not installed" in out
    if os.geteuid() != 0:  # root may write anywhere: the unwritable case needs a user
        assert code == 3 and "cannot be created" in out
