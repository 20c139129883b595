"""A thin, typed adapter over `pulumi.automation.Stack`.

What it adds to the SDK, and nothing more: failures classified into dsenv errors (lock held,
pending operations, protected resources, transient), bounded retries of transient failures
only, a state snapshot before every `up` and `destroy`, Ctrl-C forwarded to the engine, and
engine events recorded per resource (`dsenv.live.events`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from pulumi import automation as auto
from pulumi.automation import PulumiCommand
from pulumi.automation.errors import CommandError, ConcurrentUpdateError

from dsenv.errors import OperationalError
from dsenv.live.events import Recorder, Step
from dsenv.live.pulumicli import forwarding_interrupts
from dsenv.live.settings import PROJECT, LiveSettings
from dsenv.live.snapshots import Snapshot, SnapshotStore

T = TypeVar("T")
Failure = Literal["lock", "pending", "protected", "transient", "no-changes-expected", "other"]

#: Failures worth another attempt: the network or a cloud API asked us to come back later.
TRANSIENT = re.compile(
    r"connection reset by peer|i/o timeout|TLS handshake timeout|connection refused"
    r"|\b(502|503|504)\b|Service Unavailable|Bad Gateway|Too Many Requests|\b429\b"
    r"|Throttling|ThrottlingException|RequestLimitExceeded|SlowDown|RequestTimeout"
    r"|unexpected EOF|transport is closing",
    re.IGNORECASE,
)
_LOCK = re.compile(r"the stack is currently locked by|Another update is currently in progress")
_HOLDER = re.compile(r"created by (?P<who>\S+) \(pid (?P<pid>\d+)\) at (?P<when>\S+)")
_PENDING = re.compile(r"(\d+) pending operations? from previous deployment")
_PROTECTED = re.compile(r"resource (?P<urn>\S+) cannot be deleted\s+because it is protected", re.S)
_NO_CHANGES = "no changes were expected but changes were proposed"


class StackLockedError(OperationalError):
    pass


class PendingOperationsError(OperationalError):
    pass


class ProtectedResourcesError(OperationalError):
    pass


def classify(exc: CommandError) -> Failure:
    text = str(exc)
    if isinstance(exc, ConcurrentUpdateError) or _LOCK.search(text):
        return "lock"
    if _NO_CHANGES in text:
        return "no-changes-expected"
    if _PROTECTED.search(text):
        return "protected"
    if _PENDING.search(text):
        return "pending"
    if TRANSIENT.search(text):
        return "transient"
    return "other"


def lock_holder(text: str) -> str:
    match = _HOLDER.search(text)
    if not match:
        return "another update (holder not reported)"
    return f"{match['who']} (pid {match['pid']}) since {match['when']}"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for transient failures: `attempts` tries in all."""

    attempts: int = 3
    base_delay: float = 2.0
    max_delay: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def delays(self) -> Iterator[float]:
        for i in range(self.attempts - 1):
            yield min(self.base_delay * 2**i, self.max_delay)


@dataclass(frozen=True)
class StateResource:
    urn: str
    type: str
    parent: str | None
    protect: bool
    custom: bool
    outputs: dict[str, Any]


@dataclass(frozen=True)
class PendingOperation:
    urn: str
    kind: str  # creating, updating, deleting, reading


@dataclass
class OpResult:
    kind: str
    recorder: Recorder
    stdout: str = ""
    snapshot: Snapshot | None = None
    attempts: int = 1

    @property
    def changes(self) -> list[Step]:
        return self.recorder.changed()

    @property
    def summary(self) -> dict[str, int]:
        return self.recorder.summary


@dataclass
class Engine:
    """Opens stacks of the `dsenv` project with one set of settings and one CLI."""

    settings: LiveSettings
    command: PulumiCommand
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def snapshots(self) -> SnapshotStore:
        return SnapshotStore(self.settings.snapshot_dir)

    @overload
    def open(self, stack_name: str, program: Callable[[], None]) -> LiveStack: ...
    @overload
    def open(
        self, stack_name: str, program: Callable[[], None], *, create: Literal[True]
    ) -> LiveStack: ...
    @overload
    def open(
        self, stack_name: str, program: Callable[[], None], *, create: bool
    ) -> LiveStack | None: ...

    def open(
        self, stack_name: str, program: Callable[[], None], *, create: bool = True
    ) -> LiveStack | None:
        """The stack, created when missing; with create=False, None when it does not exist."""
        work_dir = self.settings.work_dir(stack_name)
        work_dir.mkdir(parents=True, exist_ok=True)
        provider = self.settings.secrets_provider
        opts = auto.LocalWorkspaceOptions(
            work_dir=str(work_dir),
            env_vars=self.settings.env,
            secrets_provider=None if provider in (None, "default") else provider,
            project_settings=auto.ProjectSettings(name=PROJECT, runtime="python"),
            pulumi_command=self.command,
        )
        init = auto.create_or_select_stack if create else auto.select_stack
        try:
            stack = self._call(
                f"opening stack {stack_name}",
                lambda: init(
                    stack_name=stack_name, project_name=PROJECT, program=program, opts=opts
                ),
            )[0]
        except OperationalError as exc:
            if not create and "no stack named" in str(exc):
                return None
            raise
        return LiveStack(stack, self)

    def _call(self, what: str, fn: Callable[[], T]) -> tuple[T, int]:
        """Run one CLI-backed call: retry transient failures, translate the others."""
        delays = self.retry.delays()
        attempt = 1
        while True:
            try:
                with forwarding_interrupts():
                    return fn(), attempt
            except CommandError as exc:
                kind = classify(exc)
                if kind == "transient":
                    delay = next(delays, None)
                    if delay is not None:
                        self.retry.sleep(delay)
                        attempt += 1
                        continue
                raise translate(what, exc, kind, attempts=attempt) from None


def translate(
    what: str, exc: CommandError, kind: Failure, *, attempts: int = 1
) -> OperationalError:
    text = str(exc)
    if kind == "lock":
        return StackLockedError(
            f"{what}: the stack is locked by {lock_holder(text)}",
            hint="wait for that run to finish; if it died, `pulumi cancel --stack NAME` "
            "removes the lock (only when you are sure nothing is running)",
        )
    if kind == "pending":
        return PendingOperationsError(
            f"{what}: the last run was interrupted and left pending operations",
            hint=PENDING_HINT,
        )
    if kind == "protected":
        urns = [m["urn"] for m in _PROTECTED.finditer(text)]
        return ProtectedResourcesError(
            f"{what}: stopped at protected resources: {', '.join(urns)}", hint=PROTECTED_HINT
        )
    tail = _error_lines(text)
    suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
    return OperationalError(f"{what} failed{suffix}: {tail}")


PENDING_HINT = (
    "check in the cloud console whether those operations finished, then run "
    "`dsenv refresh PROFILE` (add --clear-pending-creates to drop creates that never happened)"
)
PROTECTED_HINT = (
    "protected resources hold data (clusters, buckets, brokers). Back it up, then either "
    "`pulumi state unprotect --stack STACK URN` and rerun, or "
    "`dsenv destroy PROFILE --exclude-protected` to remove everything else"
)


def _error_lines(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if "error" in ln.lower()]
    if lines:
        return "; ".join(lines[-3:])
    return text.strip().splitlines()[-1] if text.strip() else "unknown error"


@dataclass
class LiveStack:
    stack: auto.Stack
    engine: Engine

    @property
    def name(self) -> str:
        return self.stack.name

    # -- state --------------------------------------------------------------------------
    def export(self) -> dict[str, Any]:
        deployment = self.engine._call(f"exporting {self.name}", self.stack.export_stack)[0]
        return {"version": deployment.version, "deployment": deployment.deployment}

    def import_state(self, state: dict[str, Any]) -> None:
        deployment = auto.Deployment(
            version=state.get("version"), deployment=state.get("deployment")
        )
        self.engine._call(
            f"importing state into {self.name}", lambda: self.stack.import_stack(deployment)
        )

    def resources(self, state: dict[str, Any] | None = None) -> list[StateResource]:
        state = state if state is not None else self.export()
        return [
            StateResource(
                urn=r["urn"],
                type=r["type"],
                parent=r.get("parent") or None,
                protect=bool(r.get("protect")),
                custom=bool(r.get("custom")),
                outputs=r.get("outputs") or {},
            )
            for r in (state.get("deployment") or {}).get("resources") or []
        ]

    def pending_operations(self, state: dict[str, Any] | None = None) -> list[PendingOperation]:
        state = state if state is not None else self.export()
        return [
            PendingOperation(urn=p.get("resource", {}).get("urn", "?"), kind=p.get("type", "?"))
            for p in (state.get("deployment") or {}).get("pending_operations") or []
        ]

    def outputs(self) -> dict[str, Any]:
        """Stack outputs with every secret value masked."""
        raw = self.engine._call(f"reading outputs of {self.name}", self.stack.outputs)[0]
        return {k: "[secret]" if v.secret else v.value for k, v in raw.items()}

    def snapshot(self, op: str) -> tuple[Snapshot, dict[str, Any]]:
        state = self.export()
        return self.engine.snapshots().save(self.name, op, state), state

    def _guard(self, op: str) -> Snapshot:
        snapshot, state = self.snapshot(op)
        pending = self.pending_operations(state)
        if pending:
            listed = "; ".join(f"{p.urn} ({p.kind})" for p in pending)
            raise PendingOperationsError(
                f"{self.name}: {len(pending)} operation(s) were interrupted in the last run and "
                f"their outcome is unknown: {listed}",
                hint=PENDING_HINT,
            )
        return snapshot

    # -- operations ---------------------------------------------------------------------
    def preview(
        self,
        recorder: Recorder,
        *,
        targets: list[str] | None = None,
        expect_no_changes: bool = False,
    ) -> OpResult:
        def run() -> str:
            try:
                return self.stack.preview(
                    on_event=recorder, target=targets, expect_no_changes=expect_no_changes or None
                ).stdout
            except CommandError as exc:
                # Changes where none were expected: the events already say which.
                if expect_no_changes and _NO_CHANGES in str(exc):
                    return exc.args[0] if exc.args else ""
                raise

        stdout, attempts = self.engine._call(f"preview of {self.name}", run)
        return OpResult("preview", recorder, stdout, attempts=attempts)

    def preview_refresh(self, recorder: Recorder) -> OpResult:
        result, attempts = self.engine._call(
            f"refresh preview of {self.name}",
            lambda: self.stack.preview_refresh(on_event=recorder),
        )
        return OpResult("refresh-preview", recorder, result.stdout, attempts=attempts)

    def up(self, recorder: Recorder, *, targets: list[str] | None = None) -> OpResult:
        snapshot = self._guard("up")
        result, attempts = self.engine._call(
            f"update of {self.name}",
            lambda: self.stack.up(on_event=recorder, target=targets),
        )
        return OpResult("up", recorder, result.stdout, snapshot, attempts)

    def refresh(self, recorder: Recorder, *, clear_pending_creates: bool = False) -> OpResult:
        result, attempts = self.engine._call(
            f"refresh of {self.name}",
            lambda: self.stack.refresh(
                on_event=recorder, clear_pending_creates=clear_pending_creates or None
            ),
        )
        return OpResult("refresh", recorder, result.stdout, attempts=attempts)

    def destroy(
        self,
        recorder: Recorder,
        *,
        targets: list[str] | None = None,
        exclude_protected: bool = False,
    ) -> OpResult:
        snapshot = self._guard("destroy")
        state = snapshot.load()
        if not exclude_protected:
            chosen = set(targets) if targets else None
            protected = [
                r.urn
                for r in self.resources(state)
                if r.protect and (chosen is None or r.urn in chosen)
            ]
            if protected:
                raise ProtectedResourcesError(
                    f"{self.name}: destroy stopped before it started: {len(protected)} protected "
                    f"resource(s): {', '.join(protected)}",
                    hint=PROTECTED_HINT,
                )
        result, attempts = self.engine._call(
            f"destroy of {self.name}",
            lambda: self.stack.destroy(
                on_event=recorder, target=targets, exclude_protected=exclude_protected or None
            ),
        )
        return OpResult("destroy", recorder, result.stdout, snapshot, attempts)

    def restore(self, snapshot: Snapshot) -> Snapshot:
        """Import a snapshot; the state it replaces is itself kept as a snapshot first."""
        before, _ = self.snapshot("restore")
        self.import_state(snapshot.load())
        return before
