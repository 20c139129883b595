"""A thin, typed adapter over `pulumi.automation.Stack`.

What it adds to the SDK, and nothing more: failures classified into dsenv errors (lock held,
pending operations, protected resources, transient), bounded retries of transient failures
only (never of a run the user interrupted), a state snapshot before every `up` and
`destroy`, Ctrl-C forwarded to the engine, the file backend's folder created on first use,
provider plugins installed before the first preview, and engine events recorded per
resource (`dsenv.live.events`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from pulumi import automation as auto
from pulumi.automation import PulumiCommand
from pulumi.automation.errors import CommandError, ConcurrentUpdateError

from dsenv.errors import OperationalError, UserInterruptError
from dsenv.live.events import Recorder, Step
from dsenv.live.pulumicli import InterruptibleCommand, forwarding_interrupts
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
#: `--expect-no-changes` when changes were proposed (pkg/backend/backenderr/backenderr.go,
#: `NoChangesExpectedError`): "...expected for preview but..." and exit code 7 from CLI 3.226
#: (pulumi#22176); "no changes were expected but changes were proposed" before.
_NO_CHANGES = re.compile(r"no changes were expected (for \w+ )?but changes were proposed")
NO_CHANGES_EXIT = 7
_EXIT = re.compile(r"^\s*code: (?P<code>-?\d+)", re.M)


def exit_code_of(exc: CommandError) -> int | None:
    """The CLI's exit code, as the SDK writes it into the error's text."""
    match = _EXIT.search(str(exc))
    return int(match["code"]) if match else None


def changes_were_proposed(exc: CommandError) -> bool:
    return exit_code_of(exc) == NO_CHANGES_EXIT or bool(_NO_CHANGES.search(str(exc)))


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
    if changes_were_proposed(exc):
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

    def __post_init__(self) -> None:
        self.settings.ensure_state_dir()

    def snapshots(self) -> SnapshotStore:
        return SnapshotStore(self.settings.snapshot_dir)

    def ensure_plugins(self, *, aws: bool) -> list[Any]:
        """The provider plugins of dsenv's program, installed when missing (see
        `dsenv.live.plugins`); exit 3 with the offline fix when they cannot be."""
        from dsenv.live import plugins

        return plugins.ensure(plugins.required_plugins(aws), self.command, self.settings.env)

    @overload
    def open(
        self, stack_name: str, program: Callable[[], None], *, profile: str = ...
    ) -> LiveStack: ...
    @overload
    def open(
        self,
        stack_name: str,
        program: Callable[[], None],
        *,
        create: Literal[True],
        profile: str = ...,
    ) -> LiveStack: ...
    @overload
    def open(
        self, stack_name: str, program: Callable[[], None], *, create: bool, profile: str = ...
    ) -> LiveStack | None: ...

    def open(
        self,
        stack_name: str,
        program: Callable[[], None],
        *,
        create: bool = True,
        profile: str = "PROFILE",
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
                Hints(self.settings, stack_name, profile),
            )[0]
        except OperationalError as exc:
            if not create and "no stack named" in str(exc):
                return None
            raise
        return LiveStack(stack, self, profile)

    def _call(self, what: str, fn: Callable[[], T], hints: Hints | None = None) -> tuple[T, int]:
        """Run one CLI-backed call: retry transient failures, translate the others. A run the
        user interrupted is never retried, whatever its output says: it ends in
        `UserInterruptError` (exit 130) once the engine has stopped."""
        delays = self.retry.delays()
        attempt = 1
        while True:
            try:
                with forwarding_interrupts():
                    return fn(), attempt
            except KeyboardInterrupt:
                raise self._interrupted(what) from None
            except CommandError as exc:
                if InterruptibleCommand.interrupted:
                    raise self._interrupted(what) from None
                kind = classify(exc)
                if kind == "transient":
                    delay = next(delays, None)
                    if delay is not None:
                        self.retry.sleep(delay)
                        attempt += 1
                        continue
                raise translate(what, exc, kind, attempts=attempt, hints=hints) from None

    def _interrupted(self, what: str) -> UserInterruptError:
        return UserInterruptError(
            f"{what} cancelled by Ctrl-C: the engine finished the steps in flight, saved the "
            "state and released the stack's lock",
            hint="run the same command again to carry on (a second Ctrl-C stops the engine at "
            "once and can leave pending operations for `dsenv refresh` to sort out)",
        )


@dataclass(frozen=True)
class Hints:
    """Fixes as commands that work when pasted into the user's shell: the backend URL and
    the stack's full name spelled out (`LiveSettings.cli_hint`), or a dsenv command."""

    settings: LiveSettings | None = None
    stack: str = ""
    profile: str = "PROFILE"

    def _pulumi(self, *args: str) -> str:
        if self.settings is None or not self.stack:
            return "pulumi " + " ".join(args)
        return self.settings.cli_hint(self.stack, *args)

    def lock(self) -> str:
        return (
            "wait for that run to finish; if it died (only when you are sure nothing is "
            f"running), remove the lock with `{self._pulumi('cancel', '--yes')}`"
        )

    def pending(self) -> str:
        return (
            "check in the cloud console whether those operations finished, then run "
            f"`dsenv refresh {self.profile}` (add --clear-pending-creates to drop creates that "
            "never happened)"
        )

    def protected(self, urns: list[str]) -> str:
        unprotect = self._pulumi("state", "unprotect", "--yes", *(urns or ["URN"]))
        return (
            "protected resources hold data (clusters, buckets, brokers). Back it up, then "
            f"either `{unprotect}` (asks for the passphrase unless PULUMI_CONFIG_PASSPHRASE is "
            f"set) and rerun, or `dsenv destroy {self.profile} --exclude-protected` to remove "
            "everything else"
        )


def translate(
    what: str, exc: CommandError, kind: Failure, *, attempts: int = 1, hints: Hints | None = None
) -> OperationalError:
    text = str(exc)
    hints = hints or Hints()
    if kind == "lock":
        return StackLockedError(
            f"{what}: the stack is locked by {lock_holder(text)}", hint=hints.lock()
        )
    if kind == "pending":
        return PendingOperationsError(
            f"{what}: the last run was interrupted and left pending operations",
            hint=hints.pending(),
        )
    if kind == "protected":
        urns = [m["urn"] for m in _PROTECTED.finditer(text)]
        return ProtectedResourcesError(
            f"{what}: stopped at protected resources: {', '.join(urns)}",
            hint=hints.protected(urns),
        )
    tail = _error_lines(text)
    suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
    return OperationalError(f"{what} failed{suffix}: {tail}")


def _error_lines(text: str) -> str:
    """The engine's errors, each with the lines that explain it: a provider's error is
    `error: Preview failed: 1 error occurred:` followed by `* <the cause>` and its
    continuation lines (the Diagnostics section of the CLI's output), so a line-by-line
    filter on "error" would keep the headline and drop the cause."""
    errors: list[list[str]] = []
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.lower().startswith("error:"):
            current = [line]
            errors.append(current)
        elif (
            current is not None
            and line
            and not line.endswith("):")
            and not (
                line.lower().startswith(("warning:", "resources:", "stderr:", "stdout:", "code:"))
            )
        ):
            current.append(line)
        else:
            current = None
    found = list(dict.fromkeys(" ".join(e) for e in errors))
    if found:
        return "; ".join(found[-3:])
    lines = [ln.strip() for ln in text.splitlines() if "error" in ln.lower()]
    if lines:
        return "; ".join(lines[-3:])
    return text.strip().splitlines()[-1] if text.strip() else "unknown error"


@dataclass
class LiveStack:
    stack: auto.Stack
    engine: Engine
    profile: str = "PROFILE"  # as the user named it, for hints

    @property
    def name(self) -> str:
        return self.stack.name

    @property
    def hints(self) -> Hints:
        return Hints(self.engine.settings, self.name, self.profile)

    def _call(self, what: str, fn: Callable[[], T]) -> tuple[T, int]:
        return self.engine._call(what, fn, self.hints)

    # -- state --------------------------------------------------------------------------
    def export(self) -> dict[str, Any]:
        """The state as `pulumi stack export` writes it: secrets stay encrypted. (The SDK's
        `export_stack` adds `--show-secrets`, which decrypts every secret into the result.)"""

        def run() -> dict[str, Any]:
            ws = self.stack.workspace
            env = {**({"PULUMI_HOME": ws.pulumi_home} if ws.pulumi_home else {}), **ws.env_vars}
            result = self.engine.command.run(
                ["stack", "export", "--stack", self.name], ws.work_dir, env
            )
            data: dict[str, Any] = json.loads(result.stdout)
            return {"version": data.get("version"), "deployment": data.get("deployment")}

        return self._call(f"exporting {self.name}", run)[0]

    def import_state(self, state: dict[str, Any]) -> None:
        """`pulumi stack import`: the CLI drops pending operations from what it imports,
        with a warning per operation (pkg/cmd/pulumi/stack/stack.go `SaveSnapshot`)."""
        deployment = auto.Deployment(
            version=state.get("version"), deployment=state.get("deployment")
        )
        self._call(f"importing state into {self.name}", lambda: self.stack.import_stack(deployment))

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
        raw = self._call(f"reading outputs of {self.name}", self.stack.outputs)[0]
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
                hint=self.hints.pending(),
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
                # Changes where none were expected (exit 7, or either text): not a failure,
                # the events already say which resources change.
                if (
                    expect_no_changes
                    and changes_were_proposed(exc)
                    and not InterruptibleCommand.interrupted
                ):
                    return exc.args[0] if exc.args else ""
                raise

        stdout, attempts = self._call(f"preview of {self.name}", run)
        return OpResult("preview", recorder, stdout, attempts=attempts)

    def preview_refresh(self, recorder: Recorder) -> OpResult:
        result, attempts = self._call(
            f"refresh preview of {self.name}",
            lambda: self.stack.preview_refresh(on_event=recorder),
        )
        return OpResult("refresh-preview", recorder, result.stdout, attempts=attempts)

    def up(self, recorder: Recorder, *, targets: list[str] | None = None) -> OpResult:
        snapshot = self._guard("up")
        result, attempts = self._call(
            f"update of {self.name}",
            lambda: self.stack.up(on_event=recorder, target=targets),
        )
        return OpResult("up", recorder, result.stdout, snapshot, attempts)

    def refresh(self, recorder: Recorder, *, clear_pending_creates: bool = False) -> OpResult:
        result, attempts = self._call(
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
                    hint=self.hints.protected(protected),
                )
        result, attempts = self._call(
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
