"""Nightly drift: three kinds, per stack, per resource, with changed property paths.

- pending: the profile in git differs from what is deployed (a preview expecting no changes);
- cloud: the cloud differs from state (a refresh preview);
- unmanaged: resources tagged for the team that the state does not know (tagging API).

Stacks are checked concurrently; each check is one or two CLI runs, so threads suffice and
the wall time approaches (stacks / concurrency) x per-stack time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dsenv.errors import DsenvError, ExitCode, UsageError, UserInterruptError
from dsenv.live.engine import Engine
from dsenv.live.events import Recorder
from dsenv.live.pulumicli import InterruptibleCommand

Kind = Literal["pending", "cloud", "unmanaged"]
KINDS: tuple[Kind, ...] = ("pending", "cloud", "unmanaged")


@dataclass(frozen=True)
class Finding:
    kind: Kind
    urn: str
    type: str
    op: str
    paths: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "urn": self.urn,
            "type": self.type,
            "op": self.op,
            "paths": list(self.paths),
        }


@dataclass
class StackDrift:
    stack: str
    profile: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def status(self) -> Literal["clean", "drift", "error"]:
        if self.error:
            return "error"
        return "drift" if self.findings else "clean"

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "profile": self.profile,
            "status": self.status,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass
class DriftReport:
    stacks: list[StackDrift]
    kinds: tuple[Kind, ...] = KINDS
    seconds: float = 0.0

    @property
    def exit_code(self) -> ExitCode:
        """3 if any stack could not be checked, else 1 if any drifted, else 0."""
        if any(s.status == "error" for s in self.stacks):
            return ExitCode.OPERATIONAL
        if any(s.status == "drift" for s in self.stacks):
            return ExitCode.FINDINGS
        return ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        counts = {k: sum(s.status == k for s in self.stacks) for k in ("clean", "drift", "error")}
        return {
            "kinds": list(self.kinds),
            "seconds": round(self.seconds, 3),
            **counts,
            "stacks": [s.to_json() for s in self.stacks],
        }


@dataclass(frozen=True)
class DriftTarget:
    """One stack to check: what the profile says, resolved by the caller."""

    profile: str
    stack: str
    team: str
    region: str | None  # AWS region for the unmanaged check; None: not an AWS target
    program: Callable[[], None]


def parse_shard(text: str | None) -> tuple[int, int]:
    if not text:
        return 1, 1
    try:
        index, total = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard takes I/N such as 2/4, not {text!r}") from None
    if not 1 <= index <= total:
        raise UsageError(f"--shard {text}: I must be between 1 and N")
    return index, total


def of_target(targets: Sequence[DriftTarget], target: str | None) -> list[DriftTarget]:
    """Only the stacks of one target (`aws` or `kubernetes`), as CI jobs group them: the AWS
    job has cloud credentials, the cluster job a kubeconfig."""
    if target is None:
        return list(targets)
    if target not in ("aws", "kubernetes"):
        raise UsageError(f"--target must be aws or kubernetes, not {target!r}")
    return [t for t in targets if (t.region is not None) == (target == "aws")]


def shard(targets: Sequence[DriftTarget], index: int, total: int) -> list[DriftTarget]:
    """Round-robin over stacks sorted by name: stable, and shards differ by at most one."""
    ordered = sorted(targets, key=lambda t: t.stack)
    return ordered[index - 1 :: total]


def check_stack(
    engine: Engine, target: DriftTarget, kinds: Sequence[Kind], tagging_client: Any = None
) -> StackDrift:
    from dsenv.live.unmanaged import unmanaged

    started = time.monotonic()
    result = StackDrift(target.stack, target.profile)
    try:
        stack = engine.open(target.stack, target.program, create=False, profile=target.profile)
        if stack is None:
            result.findings.append(
                Finding("pending", target.stack, "pulumi:pulumi:Stack", "create")
            )
            return result
        if "pending" in kinds:
            recorder = Recorder()
            stack.preview(recorder, expect_no_changes=True)
            result.findings += [
                Finding("pending", s.urn, s.type, s.op, s.paths) for s in recorder.changed()
            ]
        if "cloud" in kinds:
            recorder = Recorder()
            stack.preview_refresh(recorder)
            result.findings += [
                Finding("cloud", s.urn, s.type, s.op, s.paths) for s in recorder.changed()
            ]
        if "unmanaged" in kinds and target.region:
            outputs = [r.outputs for r in stack.resources()]
            result.findings += [
                Finding("unmanaged", arn, "aws", "unmanaged")
                for arn in unmanaged(target.team, target.region, outputs, tagging_client)
            ]
    except DsenvError as exc:
        result.error = exc.render()
    finally:
        result.seconds = time.monotonic() - started
    return result


def run_drift(
    engine: Engine,
    targets: Sequence[DriftTarget],
    *,
    concurrency: int = 4,
    kinds: Sequence[Kind] = KINDS,
    tagging_client: Any = None,
) -> DriftReport:
    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    started = time.monotonic()
    if targets and ("pending" in kinds or "cloud" in kinds):
        engine.ensure_plugins(aws=any(t.region for t in targets))
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="drift")
    try:
        futures = [pool.submit(check_stack, engine, t, kinds, tagging_client) for t in targets]
        stacks = [f.result() for f in futures]
    except KeyboardInterrupt:
        # Let every running engine cancel cleanly (and drop its lock) before leaving.
        import sys

        print(
            "^C received; cancelling the running checks (each engine finishes its steps in flight)",
            file=sys.stderr,
        )
        InterruptibleCommand.forward_interrupt()
        pool.shutdown(wait=True, cancel_futures=True)
        raise UserInterruptError(
            "drift check cancelled by Ctrl-C; every engine it started has stopped and released its lock"
        ) from None
    pool.shutdown()
    return DriftReport(
        sorted(stacks, key=lambda s: s.stack), tuple(kinds), time.monotonic() - started
    )


def targets_from_profiles(paths: Sequence[Path]) -> list[DriftTarget]:
    """Load and expand every team profile (org profiles are skipped); an invalid profile is
    a ProfileError (exit 2)."""
    from dsenv.live.cluster import with_current_context
    from dsenv.live.programs import program_for
    from dsenv.profile.load import find_profiles, load_profile
    from dsenv.spec.expand import expand_profile

    found: list[DriftTarget] = []
    for path in find_profiles(list(paths)):
        loaded = load_profile(path)
        if loaded.kind != "Team":  # org profiles have no stack of their own
            continue
        spec = with_current_context(expand_profile(loaded))  # as `dsenv up` ran it
        region = spec.aws.region if spec.aws else None
        found.append(DriftTarget(str(path), spec.stack_name, spec.team, region, program_for(spec)))
    return found
