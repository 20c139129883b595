"""Engine events as plain data: which resource, which operation, which property paths.

The Automation API hands over `EngineEvent`s (over gRPC from CLI 3.206 on, from a log file
before); dsenv keeps what it reports on: per-resource steps with their changed paths,
diagnostics, the engine's own messages and the summary. A `Recorder` is thread-safe because
the SDK calls it from its event-server or log-watcher threads.

Two things the engine does that a "last event per resource" view gets wrong
(pulumi/pulumi `pkg/resource/deploy/step_generator.go`, `pkg/engine/deployment.go`):

- a replacement is several steps on one URN: `create-replacement` and `replace` first, and
  the old resource's `delete-replaced` only after every create and update (delete before
  replace: `delete-replaced` first). The resource is one replacement, whatever came last;
- a refresh step's pre-event says `refresh`; its outputs event carries the result
  (`same`, `update` or `delete`, `RefreshStep.ResultOp`), and so does the summary.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pulumi.automation import EngineEvent
    from pulumi.automation.events import StepEventMetadata

    from dsenv.offline.diff import Line

#: Operations that change nothing in the cloud.
NO_CHANGE = frozenset({"same", "read", "refresh"})
#: The steps of one replacement (`deploy.OpReplace`, `OpCreateReplacement`, `OpDeleteReplaced`).
REPLACEMENT = frozenset({"replace", "create-replacement", "delete-replaced"})
SYMBOLS = {
    "create": "+",
    "update": "~",
    "delete": "-",
    "replace": "+-",
    "create-replacement": "+-",
    "delete-replaced": "-",
    "same": " ",
    "read": ">",
    "refresh": "~",
    "import": "=",
}


@dataclass(frozen=True)
class Step:
    urn: str
    type: str
    op: str
    paths: tuple[str, ...] = ()  # changed property paths, e.g. "tags.owner", "spec.replicas"
    done: bool = False
    failed: bool = False

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def changes(self) -> bool:
        """True when the step changes something (a refresh step counts if it found diffs)."""
        if self.op == "refresh":
            return bool(self.paths)
        return self.op not in NO_CHANGE

    def to_json(self) -> dict[str, object]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "op": self.op,
            "paths": list(self.paths),
        }


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    message: str
    urn: str | None = None


def _step(meta: StepEventMetadata, *, done: bool = False, failed: bool = False) -> Step:
    paths = tuple(sorted((meta.detailed_diff or {}).keys())) or tuple(sorted(meta.diffs or ()))
    return Step(
        urn=meta.urn, type=meta.type, op=meta.op.value, paths=paths, done=done, failed=failed
    )


@dataclass
class Recorder:
    """Collects steps (one per URN: the last event, except that any replacement step makes
    the resource a `replace`), diagnostics, the engine's messages and the change summary;
    `listener` sees each step as it happens (the progress display), `echo` each message the
    engine prints to its own terminal, such as "^C received; cancelling"."""

    listener: Callable[[Step], None] | None = None
    echo: Callable[[str], None] | None = None
    steps: dict[str, Step] = field(default_factory=dict)
    stdout: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, event: EngineEvent) -> None:
        step: Step | None = None
        if event.resource_pre_event:
            step = _step(event.resource_pre_event.metadata)
        elif event.res_outputs_event:
            step = _step(event.res_outputs_event.metadata, done=True)
        elif event.res_op_failed_event:
            step = _step(event.res_op_failed_event.metadata, failed=True)
        message = event.stdout_event.message if event.stdout_event else None
        with self._lock:
            if step is not None:
                previous = self.steps.get(step.urn)
                op = "replace" if step.op in REPLACEMENT else step.op
                paths = step.paths
                if previous and not paths and previous.paths:
                    paths = previous.paths
                step = Step(step.urn, step.type, op, paths, step.done, step.failed)
                self.steps[step.urn] = step
            if message:
                self.stdout.append(message)
            if event.diagnostic_event:
                d = event.diagnostic_event
                self.diagnostics.append(Diagnostic(d.severity, d.message.strip(), d.urn))
            if event.summary_event:
                self.summary = {
                    str(getattr(k, "value", k)): int(v)
                    for k, v in event.summary_event.resource_changes.items()
                }
        if step is not None and self.listener:
            self.listener(step)
        if message and self.echo:
            self.echo(message.rstrip("\n"))

    def changed(self) -> list[Step]:
        """Steps that change something, resource by resource, stack resource excluded."""
        with self._lock:
            steps = list(self.steps.values())
        return sorted(
            (s for s in steps if s.changes and s.type != "pulumi:pulumi:Stack"), key=lambda s: s.urn
        )

    def messages(self, severity: str) -> list[str]:
        return [d.message for d in self.diagnostics if d.severity == severity]


def engine_lines(steps: list[Step], same: int = 0) -> tuple[list[Line], str, list[str]]:
    """Engine steps as the lines, summary and warnings `dsenv diff` prints: one line per
    resource (a replacement's create and delete steps are one replace)."""
    from dsenv.capabilities import capability_of
    from dsenv.offline.diff import Line, is_stateful

    by_urn: dict[str, Step] = {}
    for step in steps:
        kept = by_urn.get(step.urn)
        if kept is None or SYMBOLS.get(step.op) == "+-":
            by_urn[step.urn] = step
    lines, counts = [], {"+": 0, "-": 0, "~": 0, "+-": 0}
    for urn, step in sorted(by_urn.items()):
        mark = SYMBOLS.get(step.op, "~").strip() or "~"
        counts[mark if mark in counts else "~"] += 1
        replace = step.paths if mark == "+-" else ()
        name = urn.rsplit("::", 1)[-1]
        shown = "~ " if mark == "~" else mark
        lines.append(Line(shown, step.type, name, capability_of(urn), step.paths, replace))
    summary = (
        f"{counts['+']} to add, {counts['~'] + counts['+-']} to change ({counts['+-']} replaced), "
        f"{counts['-']} to remove, {same} unchanged"
    )
    warnings = [
        f"WARNING: {line.type} {line.name} will be REPLACED: its data or service is lost"
        for line in lines
        if line.mark == "+-" and is_stateful(line.type)
    ]
    return lines, summary, warnings
