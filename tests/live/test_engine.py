"""The Automation API adapter, run with the real `pulumi.automation` SDK against the
stand-in CLI in tests/live/standin, for the failures the end-to-end run (test_e2e.py, the real
CLI and provider) cannot be made to produce: tests/live/README.md says why each stays."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from dsenv.errors import ExitCode, OperationalError
from dsenv.live.engine import PendingOperationsError, ProtectedResourcesError
from dsenv.live.events import Recorder
from dsenv.live.pulumicli import find_pulumi

from .conftest import Standin, team_resources

# Each test drives the real Automation API against the stand-in CLI: a few seconds each.
pytestmark = pytest.mark.slow

STACK = "acme-team"


def noop() -> None:
    return None


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


def test_snapshots_are_bounded_per_stack(engine: Any, standin: Standin) -> None:
    from dsenv.live.snapshots import SnapshotStore

    store = SnapshotStore(standin.root / "snaps", keep=3)
    for i in range(5):
        store.save(STACK, "up", {"version": 3, "deployment": {"resources": [{}] * i}})
    kept = store.list(STACK)
    assert [s.resources for s in kept] == [4, 3, 2]


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
