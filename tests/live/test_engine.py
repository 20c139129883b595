"""The Automation API adapter, run with the real `pulumi.automation` SDK against the
stand-in CLI in tests/live/standin (the real CLI cannot be installed here)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from dsenv.errors import ExitCode, OperationalError
from dsenv.live.engine import PendingOperationsError, ProtectedResourcesError, StackLockedError
from dsenv.live.events import Recorder
from dsenv.live.pulumicli import MIN_VERSION, find_pulumi
from dsenv.live.targets import capability_urns

from .conftest import Standin, team_resources

# Each test drives the real Automation API against the stand-in CLI: a few seconds each.
pytestmark = pytest.mark.slow

STACK = "acme-team"


def noop() -> None:
    return None


def test_cli_found_on_path_and_version_checked(standin: Standin) -> None:
    cmd = find_pulumi()
    assert cmd.command == "pulumi" and cmd.version is not None
    assert cmd.version >= MIN_VERSION


def test_too_old_cli_is_refused_with_exit_3(
    standin: Standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSENV_STANDIN_VERSION", "3.100.0")
    with pytest.raises(OperationalError) as err:
        find_pulumi()
    assert err.value.exit_code == ExitCode.OPERATIONAL
    assert "3.100.0" in err.value.message


def test_missing_cli_is_exit_3_with_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("DSENV_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(OperationalError) as err:
        find_pulumi()
    assert "no usable Pulumi CLI" in err.value.message and err.value.hint


def test_stack_is_created_then_selected(engine: Any, standin: Standin) -> None:
    standin.scenario(STACK, desired=team_resources(STACK))
    engine.open(STACK, noop)
    assert (standin.backend / ".pulumi" / "stacks" / "dsenv" / f"{STACK}.json").exists()
    assert engine.open(STACK, noop).name == STACK
    assert engine.open("acme-missing", noop, create=False) is None


def test_preview_then_up_report_steps_from_the_event_log(engine: Any, standin: Standin) -> None:
    standin.scenario(STACK, desired=team_resources(STACK))
    stack = engine.open(STACK, noop)
    preview = stack.preview(Recorder())
    assert preview.summary == {"create": 4}
    assert {s.name for s in preview.changes} == {"team", "data", "transactions"}
    seen: list[str] = []
    up = stack.up(Recorder(listener=lambda s: seen.append(f"{s.op}:{s.name}:{s.done}")))
    assert "create:transactions:True" in seen
    assert up.snapshot is not None and up.snapshot.resources == 0  # state before the update
    assert len(stack.resources()) == 4
    again = stack.preview(Recorder(), expect_no_changes=True)
    assert again.changes == []


def test_changed_inputs_show_their_property_paths(engine: Any, standin: Standin) -> None:
    desired = team_resources(STACK)
    standin.scenario(STACK, desired=desired)
    stack = engine.open(STACK, noop)
    stack.up(Recorder())
    desired[3]["inputs"] = {"spec": {"partitions": 24}}
    standin.scenario(STACK, desired=desired)
    changes = stack.preview(Recorder(), expect_no_changes=True).changes
    assert [(c.op, c.name, c.paths) for c in changes] == [
        ("update", "transactions", ("spec.partitions",))
    ]


def test_held_lock_exits_3_naming_the_holder(engine: Any, standin: Standin) -> None:
    standin.scenario(STACK, desired=team_resources(STACK))
    stack = engine.open(STACK, noop)
    standin.lock(STACK, holder="nightly-ci", pid=777)
    with pytest.raises(StackLockedError) as err:
        stack.up(Recorder())
    assert err.value.exit_code == ExitCode.OPERATIONAL
    assert "nightly-ci@runner-7 (pid 777)" in err.value.message
    assert "pulumi cancel" in (err.value.hint or "")


def test_the_lock_hint_is_a_command_that_works_from_any_folder(
    engine: Any, standin: Standin, tmp_path: Path
) -> None:
    """The hint names the backend and the stack's full name: pasted into a shell outside
    dsenv's work folder, with nothing but the printed text, it removes the lock."""
    import shlex
    import subprocess

    standin.scenario(STACK, desired=team_resources(STACK))
    stack = engine.open(STACK, noop)
    standin.lock(STACK)
    with pytest.raises(StackLockedError) as err:
        stack.up(Recorder())
    command = (err.value.hint or "").split("`")[1]
    assert command.startswith(f"PULUMI_BACKEND_URL=file://{standin.backend} pulumi cancel")
    assert f"--stack organization/dsenv/{STACK}" in command
    assignment, *words = shlex.split(command)
    key, value = assignment.split("=", 1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in standin.env.items() if k != "DSENV_BACKEND"} | {key: value}
    subprocess.run(words, cwd=elsewhere, env=env, check=True, capture_output=True)
    assert standin.locks() == []
    stack.up(Recorder())  # and the stack can be updated again


def test_pending_operations_are_detected_and_explained(engine: Any, standin: Standin) -> None:
    standin.scenario(STACK, desired=team_resources(STACK))
    stack = engine.open(STACK, noop)
    stack.up(Recorder())
    victim = stack.export()["deployment"]["resources"][1]["urn"]
    standin.leave_pending(STACK, victim)
    with pytest.raises(PendingOperationsError) as err:
        stack.up(Recorder())
    assert victim in err.value.message and "creating" in err.value.message
    assert "dsenv refresh PROFILE" in (err.value.hint or "")
    recorder = Recorder()
    stack.preview(recorder)  # the engine's own warning reaches the diagnostics too
    assert any("1 pending operations" in m for m in recorder.messages("warning"))
    stack.refresh(Recorder(), clear_pending_creates=True)
    assert stack.pending_operations() == []


def test_transient_failures_are_retried_then_succeed(engine: Any, standin: Standin) -> None:
    standin.scenario(
        STACK,
        desired=team_resources(STACK),
        fail={"op": "up", "times": 2, "stderr": "error: 503 Service Unavailable"},
    )
    result = engine.open(STACK, noop).up(Recorder())
    assert result.attempts == 3


def test_non_transient_failure_is_not_retried(engine: Any, standin: Standin) -> None:
    standin.scenario(
        STACK,
        desired=team_resources(STACK),
        fail={"op": "up", "times": 1, "stderr": "error: AccessDenied: not allowed"},
    )
    with pytest.raises(OperationalError, match="AccessDenied"):
        engine.open(STACK, noop).up(Recorder())
    counter = standin.backend / f".standin-failures-{STACK}-up"
    assert counter.read_text() == "1"


def test_destroy_stops_at_protected_resources(engine: Any, standin: Standin) -> None:
    standin.scenario(STACK, desired=team_resources(STACK))
    stack = engine.open(STACK, noop)
    stack.up(Recorder())
    with pytest.raises(ProtectedResourcesError) as err:
        stack.destroy(Recorder())
    assert "BucketV2::data" in err.value.message and "--exclude-protected" in (err.value.hint or "")
    assert len(stack.resources()) == 4  # nothing was deleted
    stack.destroy(Recorder(), exclude_protected=True)
    assert [r.type for r in stack.resources()] == ["aws:s3/bucketV2:BucketV2"]


def test_only_targets_one_capability_subtree(engine: Any, standin: Standin) -> None:
    standin.scenario(STACK, desired=team_resources(STACK))
    stack = engine.open(STACK, noop)
    stack.up(Recorder())
    targets = capability_urns(stack.resources(), "kafka")
    assert len(targets) == 2 and all("kafka" in t for t in targets)
    desired = team_resources(STACK)
    desired[1]["inputs"] = {"tags": {"owner": "someone-else"}}
    desired[3]["inputs"] = {"spec": {"partitions": 3}}
    standin.scenario(STACK, desired=desired)
    changed = stack.preview(Recorder(), targets=targets).changes
    assert [c.name for c in changed] == ["transactions"]


def test_export_import_and_restore_round_trip(engine: Any, standin: Standin) -> None:
    standin.scenario(STACK, desired=team_resources(STACK))
    stack = engine.open(STACK, noop)
    stack.up(Recorder())
    deployed = stack.export()
    stack.destroy(Recorder(), exclude_protected=True)
    snapshot = engine.snapshots().get(STACK)  # newest: taken before the destroy
    assert snapshot.op == "destroy" and snapshot.load() == deployed
    stack.restore(snapshot)
    assert json.dumps(stack.export(), sort_keys=True) == json.dumps(deployed, sort_keys=True)


def test_snapshots_are_bounded_per_stack(engine: Any, standin: Standin) -> None:
    from dsenv.live.snapshots import SnapshotStore

    store = SnapshotStore(standin.root / "snaps", keep=3)
    for i in range(5):
        store.save(STACK, "up", {"version": 3, "deployment": {"resources": [{}] * i}})
    kept = store.list(STACK)
    assert [s.resources for s in kept] == [4, 3, 2]


def test_preview_lists_changes_in_the_layout_of_dsenv_diff(engine: Any, standin: Standin) -> None:
    from dsenv.live.events import engine_lines
    from dsenv.offline.diff import render_lines

    desired = team_resources(STACK)
    standin.scenario(STACK, desired=desired)
    stack = engine.open(STACK, noop)
    stack.up(Recorder())
    desired[3]["inputs"] = {"spec": {"partitions": 24}}
    standin.scenario(STACK, desired=desired)
    result = stack.preview(Recorder())
    lines, summary, warnings = engine_lines(result.changes, result.summary.get("same", 0))
    text = render_lines("dsenv preview", lines, summary, warnings)
    assert "~  kubernetes:kafka.strimzi.io/v1beta2:KafkaTopic  transactions  [kafka]\n" in text
    assert "      spec.partitions\n" in text
    assert summary.startswith("0 to add, 1 to change (0 replaced), 0 to remove")
    assert warnings == []


def test_ctrl_c_cancels_once_shows_the_engine_message_and_is_never_retried(
    engine: Any, standin: Standin
) -> None:
    """A Ctrl-C during `up` reaches dsenv, which forwards one SIGINT to the CLI and waits for
    the engine to cancel (state written, lock released). The engine's own "cancelling"
    message is shown as it arrives; the run ends in UserInterruptError (exit 130) and is not tried
    again, although its output matches the transient-failure pattern."""
    import os
    import signal
    import threading

    from dsenv.errors import UserInterruptError
    from dsenv.live.pulumicli import InterruptibleCommand

    standin.scenario(
        STACK,
        desired=team_resources(STACK),
        latency=30,
        cancel_output="error: 503 Service Unavailable",  # would be retried if it were a failure
    )
    stack = engine.open(STACK, noop)
    held_when_pressed: list[int] = []
    shown: list[str] = []

    def press_ctrl_c() -> None:
        deadline = time.monotonic() + 20
        while not standin.locks() and time.monotonic() < deadline:
            time.sleep(0.05)  # wait until `up` holds the stack's lock
        held_when_pressed.append(len(standin.locks()))
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(UserInterruptError) as err:
        stack.up(Recorder(echo=shown.append))
    assert err.value.exit_code == 130
    assert time.monotonic() - started < 25  # it did not sit out the 30 s of latency
    assert held_when_pressed == [1]  # the update was running, holding its lock
    assert standin.locks() == []  # and the cancelled engine released it
    assert not InterruptibleCommand._running  # the CLI process has exited
    assert any(m.startswith("^C received; cancelling.") for m in shown)
    history = json.loads(
        (standin.backend / ".pulumi" / "history" / "dsenv" / f"{STACK}.json").read_text()
    )
    assert [h["result"] for h in history] == ["failed"]  # one attempt only
