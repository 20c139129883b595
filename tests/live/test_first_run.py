"""The first `dsenv up` on a fresh machine, provider plugins, snapshots and Ctrl-C through the
real command line, against the stand-in CLI (tests/live/README.md)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
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


def test_first_up_on_a_fresh_machine_with_the_default_backend(
    standin: Standin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No DSENV_BACKEND, a DSENV_HOME that does not exist: the default file backend
    `$DSENV_HOME/state` is created (the CLI refuses a missing folder) and the update runs."""
    home = tmp_path / "fresh-home"
    monkeypatch.setenv("DSENV_HOME", str(home))
    monkeypatch.delenv("DSENV_BACKEND")
    stack = sandbox_stack(standin)
    code, out = invoke("up", str(SANDBOX), "--yes")
    assert code == 0, out
    state = home / "state"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    checkpoint = json.loads((state / ".pulumi" / "stacks" / "dsenv" / f"{stack}.json").read_text())
    assert len(checkpoint["checkpoint"]["latest"]["resources"]) == 3
    assert "state before this update kept as snapshot" in out


def test_the_cli_refuses_a_missing_state_folder_which_is_why_dsenv_creates_it(
    standin: Standin, tmp_path: Path
) -> None:
    missing = tmp_path / "missing"
    run = subprocess.run(
        ["pulumi", "stack", "init", "x"],
        env={**os.environ, "PULUMI_BACKEND_URL": f"file://{missing}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert f'unable to open state directory "file://{missing}"' in run.stderr


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


def test_ambient_plugins_need_no_install_even_with_acquisition_disabled(
    standin: Standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on the end-to-end machine: the provider is on PATH, whatever its version."""
    monkeypatch.setenv("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    sandbox_stack(standin)
    code, out = invoke("preview", str(SANDBOX))
    assert code == 0, out
    assert standin.calls("plugin install") == [] and standin.calls("preview")


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


# -- Ctrl-C through the command line ------------------------------------------------------


def test_ctrl_c_on_dsenv_up_exits_130_with_the_engine_message_and_no_lock(
    standin: Standin,
) -> None:
    """A terminal's Ctrl-C reaches dsenv (the CLI runs in its own session); dsenv forwards it
    once, shows the engine's message and exits 130 after the engine released the lock."""
    sandbox_stack(standin, latency=30)
    command = [sys.executable, "-c", "from dsenv.cli.app import main; main()"]
    process = subprocess.Popen(
        [*command, "up", str(SANDBOX), "--yes"],
        env=os.environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not standin.calls("up") and time.monotonic() < deadline:
        time.sleep(0.05)
    while not standin.locks() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert standin.locks(), "the update never took the stack's lock"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "^C received; cancelling." in err
    assert "cancelled by Ctrl-C" in err
    assert standin.locks() == []
    assert len(standin.calls("up")) == 1
