"""`dsenv diff`: what changes between two resource graphs, and what the engine will replace.

Resources are matched by URN, as the engine matches them: a renamed resource is one
removal and one addition. A changed resource lists every input property that differs, old
and new value; a change to a path listed in `dsenv/data/replace_triggers.yaml` for its type
forces a replacement.

A replacement does not stop at the resource. The engine's step generator
(pulumi/pulumi `pkg/resource/deploy/step_generator.go`) decides each resource in
registration order; a replaced resource is a new physical resource whose ID and computed
outputs are unknown until it exists, so every input that reads them is unknown too, and a
dependent is replaced in turn when such an input is one of its replace triggers
(`calculateDependentReplacements`: "substituting unknowns for input properties that may
change due to deletion of the resources their value depends on", then the provider's
Diff). A resource whose provider is replaced is replaced as well ("If the resource's
provider is in the replace set, we must replace this resource"). The offline graph's IDs
are derived from names, so the new graph alone shows none of this; `diff_graphs` predicts
it from the graph's property dependencies: walking the new graph in dependency order, an
input property that depends on a replaced (or new) resource gets `[computed]` wherever its
value holds one of that resource's computed outputs (its ID, ARN, endpoint ...), and a
secret built from one, which dsenv cannot look into, is unknown as a whole.

Deleting or replacing a stateful resource (a bucket, a cluster, a volume, Kafka and its
storage ...) loses its data or its service: `Diff.data_loss` lists them, the gate of
`dsenv diff --fail-on-data-loss` (alias `--fail-on-replace`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from dsenv.capabilities import order as capability_order
from dsenv.errors import OperationalError, UsageError
from dsenv.offline.data import bundled
from dsenv.offline.graph import COMPUTED, FORMAT_VERSION, SECRET_MASK, Resource, ResourceGraph

_OPTIONS = ("protect", "delete_before_replace", "ignore_changes", "provider")


class _Missing:
    def __repr__(self) -> str:
        return "(none)"


#: The old or new value of a property that one side does not have.
MISSING: Any = _Missing()


def changed_values(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(path, old, new) for every dotted property path (lists indexed as `[i]`) where `old`
    and `new` differ; `MISSING` for a side without the key. JSON policy documents (strings)
    are compared inside."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(old) | set(new)):
            sub = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                out.append((sub, old.get(key, MISSING), new.get(key, MISSING)))
            else:
                out += changed_values(old[key], new[key], sub)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            change
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for change in changed_values(a, b, f"{prefix}[{i}]")
        ]
    if (
        isinstance(old, str)
        and isinstance(new, str)
        and _is_json_document(old)
        and _is_json_document(new)
    ):
        # policy documents are JSON strings: report the paths inside them
        return changed_values(json.loads(old), json.loads(new), prefix)
    if new == COMPUTED or old != new:
        return [(prefix or ".", old, new)]
    return []


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted property paths (lists indexed as `[i]`) where `old` and `new` differ."""
    return [path for path, _, _ in changed_values(old, new, prefix)]


def _is_json_document(text: str) -> bool:
    if not text.startswith("{"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _trigger_regex(trigger: str) -> re.Pattern[str]:
    escaped = re.escape(trigger).replace(r"\[\*\]", r"\[\d+\]")
    return re.compile(rf"^{escaped}(?:$|[.\[])")


def _forces_replacement(path: str, new: Any, triggers: Sequence[str]) -> bool:
    """A changed path forces a replacement when it is a trigger or lies under one; an
    unknown value also when a trigger lies under it (the unknown may change the trigger)."""
    generic = re.sub(r"\[\d+\]", "[*]", path)
    for trigger in triggers:
        if _trigger_regex(trigger).match(path):
            return True
        if new == COMPUTED and (
            path == "." or trigger.startswith(generic + ".") or trigger.startswith(generic + "[")
        ):
            return True
    return False


@dataclass(frozen=True)
class PropertyChange:
    path: str
    old: Any  # MISSING when the old inputs lack it
    new: Any  # MISSING when the new inputs lack it; COMPUTED when unknown before `up`
    replaces: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "old": None if self.old is MISSING else self.old,
            "new": None if self.new is MISSING else self.new,
            "replace": self.replaces,
        }


@dataclass(frozen=True)
class Change:
    resource: Resource  # the new one
    old: Resource
    values: tuple[PropertyChange, ...]  # changed inputs, old and new
    options: tuple[str, ...]  # changed resource options
    stateful: bool
    #: replaced resources whose unknown outputs this one's inputs read
    because: tuple[str, ...] = ()
    #: the URN of this resource's provider when that provider is replaced
    provider_replaced: str | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(v.path for v in self.values)

    @property
    def replace_paths(self) -> tuple[str, ...]:
        """The changed paths that force a replacement."""
        return tuple(v.path for v in self.values if v.replaces)

    @property
    def replaces(self) -> bool:
        return bool(self.replace_paths) or self.provider_replaced is not None

    @property
    def replaces_stateful(self) -> bool:
        return self.replaces and self.stateful

    @property
    def blocked_by_protect(self) -> bool:
        """The engine refuses to replace a resource protected before and after."""
        return self.replaces and self.old.protect and self.resource.protect


@dataclass
class Diff:
    added: list[Resource] = field(default_factory=list)
    removed: list[Resource] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unchanged: int = 0
    old_stack: str = ""
    new_stack: str = ""

    @property
    def stateful_replacements(self) -> list[Change]:
        return sorted(
            (c for c in self.changed if c.replaces_stateful),
            key=lambda c: (capability_order(c.resource.capability), c.resource.urn),
        )

    @property
    def stateful_removals(self) -> list[Resource]:
        return sorted(
            (r for r in self.removed if r.custom and is_stateful(r.type)),
            key=lambda r: (capability_order(r.capability), r.urn),
        )

    @property
    def data_loss(self) -> bool:
        """A stateful resource is deleted or replaced: the gate of `--fail-on-data-loss`."""
        return bool(self.stateful_replacements or self.stateful_removals)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "kind": "dsenv-diff",
            "stacks": {"old": self.old_stack, "new": self.new_stack},
            "summary": {
                "added": len(self.added),
                "removed": len(self.removed),
                "changed": len(self.changed),
                "replaced": sum(c.replaces for c in self.changed),
                "stateful_replacements": len(self.stateful_replacements),
                "stateful_removals": len(self.stateful_removals),
                "data_loss": self.data_loss,
                "unchanged": self.unchanged,
            },
            "added": [
                {"urn": r.urn, "type": r.type, "capability": r.capability} for r in self.added
            ],
            "removed": [
                {
                    "urn": r.urn,
                    "type": r.type,
                    "capability": r.capability,
                    "stateful": is_stateful(r.type),
                    "protect": r.protect,
                }
                for r in self.removed
            ],
            "changed": [
                {
                    "urn": c.resource.urn,
                    "type": c.resource.type,
                    "capability": c.resource.capability,
                    "paths": list(c.paths),
                    "values": [v.to_json() for v in c.values],
                    "options": list(c.options),
                    "replace": c.replaces,
                    "replace_paths": list(c.replace_paths),
                    "because": list(c.because),
                    "provider_replaced": c.provider_replaced,
                    "stateful": c.stateful,
                    "protect": c.resource.protect,
                }
                for c in self.changed
            ],
        }


def is_stateful(type_token: str) -> bool:
    row = bundled("replace_triggers.yaml")["types"].get(type_token) or {}
    return bool(row.get("stateful"))


def replace_triggers(type_token: str) -> list[str]:
    table = bundled("replace_triggers.yaml")
    row = table["types"].get(type_token) or {}
    triggers = list(row.get("replace_on") or [])
    if type_token.startswith("kubernetes:") and not type_token.startswith("kubernetes:helm.sh/"):
        triggers += table["kubernetes_identity"]
    return triggers


# --- the engine's view: what a replacement makes unknown downstream --------------------

#: Output strings shorter than this are not looked for inside inputs (a short name would
#: match everywhere); every mocked ID, ARN and endpoint is longer.
_MIN_OUTPUT_LENGTH = 8


def _output_strings(resource: Resource) -> set[str]:
    """The computed outputs of `resource` as they can appear inside a dependent's inputs:
    every string among its ID and outputs, and a URL also without its scheme (an OIDC
    issuer is used as `oidc.eks...` in trust policies)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str) and len(value) >= _MIN_OUTPUT_LENGTH:
            found.add(value)
            scheme, sep, rest = value.partition("://")
            if sep and scheme.isalpha() and len(rest) >= _MIN_OUTPUT_LENGTH:
                found.add(rest)

    walk(resource.outputs)
    return found


def _unknown_in(value: Any, outputs: set[str]) -> tuple[Any, bool]:
    """`value` with every string that holds one of `outputs` (or is a masked secret) made
    `[computed]`; and whether anything was."""
    if isinstance(value, dict):
        changed = False
        out: dict[str, Any] = {}
        for k, v in value.items():
            out[k], hit = _unknown_in(v, outputs)
            changed |= hit
        return (out, True) if changed else (value, False)
    if isinstance(value, list):
        items = [_unknown_in(v, outputs) for v in value]
        if any(hit for _, hit in items):
            return [v for v, _ in items], True
        return value, False
    if isinstance(value, str) and (value == SECRET_MASK or any(o in value for o in outputs)):
        return COMPUTED, True
    return value, False


def predicted_inputs(
    resource: Resource, unknown: dict[str, set[str]]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """`resource`'s inputs as the engine will see them in a preview, given the resources
    whose outputs are unknown (URN -> their output strings); and which of those it reads."""
    inputs = dict(resource.inputs)
    because: set[str] = set()
    for key, urns in resource.property_dependencies.items():
        if key not in inputs:
            continue
        for urn in urns:
            if urn not in unknown:
                continue
            value, hit = _unknown_in(inputs[key], unknown[urn])
            if hit:
                inputs[key] = value
                because.add(urn)
    return inputs, tuple(sorted(because))


def _provider_urn(reference: str | None) -> str | None:
    """The URN of a provider reference `urn::id`."""
    if not reference:
        return None
    urn, _, _ = reference.rpartition("::")
    return urn or None


def _dependency_order(graph: ResourceGraph) -> list[Resource]:
    """The resources of `graph`, each after everything it depends on and its provider (the
    order the engine registers them in); ties by URN."""
    by_urn = graph.by_urn()
    done: set[str] = set()
    order: list[Resource] = []

    def visit(urn: str, path: set[str]) -> None:
        if urn in done or urn in path or urn not in by_urn:
            return
        path.add(urn)
        r = by_urn[urn]
        provider = _provider_urn(r.provider)
        for dep in sorted({*r.dependencies, *([provider] if provider else [])}):
            visit(dep, path)
        path.discard(urn)
        done.add(urn)
        order.append(r)

    for urn in sorted(by_urn):
        visit(urn, set())
    return order


def diff_graphs(old: ResourceGraph, new: ResourceGraph) -> Diff:
    before, after = old.by_urn(), new.by_urn()
    result = Diff(old_stack=old.stack, new_stack=new.stack)
    result.added = [after[u] for u in sorted(set(after) - set(before)) if after[u].custom]
    result.removed = [before[u] for u in sorted(set(before) - set(after)) if before[u].custom]
    # URN -> output strings of every resource whose outputs are unknown in a preview: the
    # new ones and the replaced ones
    unknown: dict[str, set[str]] = {
        u: _output_strings(after[u]) for u in after if u not in before and after[u].custom
    }
    for b in _dependency_order(new):
        a = before.get(b.urn)
        if a is None or not b.custom:
            continue
        inputs, because = predicted_inputs(b, unknown)
        triggers = replace_triggers(b.type)
        values = tuple(
            PropertyChange(path, was, now, _forces_replacement(path, now, triggers))
            for path, was, now in changed_values(a.inputs, inputs)
        )
        options = tuple(o for o in _OPTIONS if getattr(a, o) != getattr(b, o))
        provider = _provider_urn(b.provider)
        provider_replaced = provider if provider in unknown and provider in before else None
        if not values and not options and provider_replaced is None:
            result.unchanged += 1
            continue
        change = Change(
            b,
            a,
            values,
            options,
            is_stateful(b.type),
            because=because,
            provider_replaced=provider_replaced,
        )
        if change.replaces:
            unknown[b.urn] = _output_strings(b)
        result.changed.append(change)
    result.changed.sort(key=lambda c: c.resource.urn)
    return result


# --- rendering ---------------------------------------------------------------------------

#: Keys whose values are secrets even when the program did not mark them secret.
_SECRET_KEY = re.compile(r"(?i)(password|passwd|token|private_?key|secret_?key|access_?key)$")
_SHOW_MAX = 60


def show(value: Any, path: str = "") -> str:
    """A property value for people: strings quoted, structures as compact JSON, long ones
    cut; secrets, and values under keys named like one, as `[secret]`."""
    if value is MISSING:
        return "(none)"
    if value in (COMPUTED, SECRET_MASK):
        return str(value)
    last = re.split(r"[.\[\]]", path.rstrip("]"))[-1] if path else ""
    if isinstance(value, str) and _SECRET_KEY.search(last):
        return SECRET_MASK
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= _SHOW_MAX else text[: _SHOW_MAX - 1] + "…"


def show_change(change: PropertyChange) -> str:
    """`old → new` for people. Two long texts that differ late are shown around their first
    difference (a multi-line text: the first line that differs), not as two equal prefixes."""
    old, new, path = change.old, change.new, change.path
    if (
        isinstance(old, str)
        and isinstance(new, str)
        and old not in (COMPUTED, SECRET_MASK)
        and new not in (COMPUTED, SECRET_MASK)
        and show(old, path) != SECRET_MASK
        and (
            "\n" in old
            or "\n" in new
            or max(len(json.dumps(old)), len(json.dumps(new))) > _SHOW_MAX
        )
    ):
        where = ""
        a_lines, b_lines = old.splitlines(), new.splitlines()
        if len(a_lines) > 1 or len(b_lines) > 1:
            i = next(
                (n for n, (x, y) in enumerate(zip(a_lines, b_lines, strict=False)) if x != y),
                min(len(a_lines), len(b_lines)),
            )
            old = a_lines[i] if i < len(a_lines) else ""
            new = b_lines[i] if i < len(b_lines) else ""
            where = f"line {i + 1}: "
        common = next(
            (i for i, (x, y) in enumerate(zip(old, new, strict=False)) if x != y),
            min(len(old), len(new)),
        )
        start = max(0, common - 16) if max(len(old), len(new)) > _SHOW_MAX - 2 else 0
        cut = "…" if start else ""
        return f"{where}{show(cut + old[start:], path)} → {show(cut + new[start:], path)}"
    return f"{show(old, path)} → {show(new, path)}"


def _short_urn(urn: str, graph: dict[str, Resource]) -> str:
    r = graph.get(urn)
    return f"{r.type} {r.name}" if r else urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class Line:
    """One resource in a change listing (`dsenv diff`, and `preview`/`up` from engine events)."""

    mark: str  # "+", "-", "~ ", "+-"
    type: str
    name: str
    capability: str
    paths: tuple[str, ...] = ()
    replace_paths: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    #: old -> new per path, when known (`dsenv diff`); the engine's events give paths only
    values: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()


def render_lines(
    title: str, lines: Sequence[Line], summary: str, warnings: Sequence[str] = ()
) -> str:
    """The one text layout of a change listing."""
    out = [title, ""]
    for line in lines:
        stateful = is_stateful(line.type)
        note = "  (stateful: its data is deleted)" if line.mark == "-" and stateful else ""
        out.append(f"{line.mark} {line.type}  {line.name}  [{line.capability}]{note}")
        shown = dict(line.values)
        for p in line.paths:
            flag = (
                "  REPLACES" + (" (stateful)" if stateful else "")
                if p in line.replace_paths
                else ""
            )
            value = f": {shown[p]}" if p in shown else ""
            out.append(f"      {p}{value}{flag}")
        out += [f"      option {o}" for o in line.options]
        out += [f"      {n}" for n in line.notes]
    if not lines:
        out.append("no changes")
    out += ["", summary, *warnings]
    return "\n".join(out) + "\n"


def _sorted_changes(diff: Diff) -> list[Change]:
    return sorted(
        diff.changed,
        key=lambda c: (capability_order(c.resource.capability), not c.replaces, c.resource.urn),
    )


def _why(change: Change, graph: dict[str, Resource]) -> str:
    """Why a change replaces, in words."""
    if change.provider_replaced and not change.replace_paths:
        return f"its provider {_short_urn(change.provider_replaced, graph)} is replaced"
    paths = ", ".join(change.replace_paths)
    reason = f"{paths} {'changes' if len(change.replace_paths) == 1 else 'change'}"
    if change.because:
        reason += " ([computed]: " + ", ".join(_short_urn(u, graph) for u in change.because)
        reason += " is replaced)" if len(change.because) == 1 else " are replaced)"
    return reason


def _stack_note(diff: Diff) -> list[str]:
    if not diff.old_stack or not diff.new_stack or diff.old_stack == diff.new_stack:
        return []
    return [
        f"note: the stack changes from {diff.old_stack} to {diff.new_stack}: `dsenv up` creates "
        f"a new stack; the resources of {diff.old_stack} go when it is destroyed"
    ]


def _protected(diff: Diff, removal: bool) -> str:
    """What the engine does with a protected resource it should delete or replace."""
    if removal and diff.old_stack and diff.new_stack and diff.old_stack != diff.new_stack:
        return f"it is protected, so `destroy` of {diff.old_stack} stops at it until protect is removed"
    return "it is protected, so `up` stops at it until protect is removed"


def data_loss_lines(diff: Diff, graph: dict[str, Resource]) -> list[str]:
    """One sentence per stateful resource deleted or replaced."""
    out = []
    for c in diff.stateful_replacements:
        line = (
            f"DATA LOSS: {c.resource.type} {c.resource.name} [{c.resource.capability}] is "
            f"REPLACED ({_why(c, graph)}): its data or service is lost"
        )
        if c.blocked_by_protect:
            line += "; " + _protected(diff, removal=False)
        out.append(line)
    for r in diff.stateful_removals:
        line = f"DATA LOSS: {r.type} {r.name} [{r.capability}] is DELETED: its data is lost"
        if r.protect:
            line += "; " + _protected(diff, removal=True)
        out.append(line)
    return out


def render_text(diff: Diff, old_label: str, new_label: str) -> str:
    graph = {c.resource.urn: c.resource for c in diff.changed}
    lines = [Line("+", r.type, r.name, r.capability) for r in diff.added]
    lines += [Line("-", r.type, r.name, r.capability) for r in diff.removed]
    for c in _sorted_changes(diff):
        notes = []
        if c.provider_replaced:
            notes.append(f"its provider {_short_urn(c.provider_replaced, graph)} is replaced")
        if c.because:
            notes.append(
                "[computed]: reads "
                + ", ".join(_short_urn(u, graph) for u in c.because)
                + ", which is replaced or new"
            )
        lines.append(
            Line(
                "+-" if c.replaces else "~ ",
                c.resource.type,
                c.resource.name,
                c.resource.capability,
                c.paths,
                c.replace_paths,
                c.options,
                values=tuple((v.path, show_change(v)) for v in c.values),
                notes=tuple(notes),
            )
        )
    s = diff.to_json()["summary"]
    summary = (
        f"{s['added']} to add, {s['changed']} to change ({s['replaced']} replaced), "
        f"{s['removed']} to remove, {s['unchanged']} unchanged"
    )
    warnings = [*_stack_note(diff), *data_loss_lines(diff, graph)]
    return render_lines(f"dsenv diff: {old_label} -> {new_label}", lines, summary, warnings)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(diff: Diff, old_label: str, new_label: str) -> str:
    graph = {c.resource.urn: c.resource for c in diff.changed}
    s = diff.to_json()["summary"]
    out = [
        f"### dsenv diff: `{old_label}` → `{new_label}`",
        "",
        f"**{s['added']}** to add, **{s['changed']}** to change ({s['replaced']} replaced), "
        f"**{s['removed']}** to remove, {s['unchanged']} unchanged.",
        "",
    ]
    out += [f"> [!NOTE]\n> {n.removeprefix('note: ')}\n" for n in _stack_note(diff)]
    for c in diff.stateful_replacements:
        out += [
            "> [!CAUTION]",
            f"> **`{c.resource.type}` {c.resource.name}** ({c.resource.capability}) is "
            "**replaced**: its data or service is lost.",
            f"> Why: {_cell(_why(c, graph))}.",
        ]
        if c.blocked_by_protect:
            out.append(f"> {_protected(diff, removal=False).capitalize()}.")
        out.append("")
    for r in diff.stateful_removals:
        out += [
            "> [!CAUTION]",
            f"> **`{r.type}` {r.name}** ({r.capability}) is **deleted**: its data is lost.",
        ]
        if r.protect:
            out.append(f"> {_protected(diff, removal=True).capitalize()}.")
        out.append("")
    if diff.empty:
        out += ["No changes.", ""]
        return "\n".join(out)
    out += [
        "| | type | name | capability | changed properties (old → new) |",
        "|---|---|---|---|---|",
    ]
    for r in diff.added:
        out.append(f"| add | `{r.type}` | {r.name} | {r.capability} | |")
    for r in diff.removed:
        note = " (stateful)" if is_stateful(r.type) else ""
        out.append(f"| remove | `{r.type}` | {r.name}{note} | {r.capability} | |")
    for c in _sorted_changes(diff):
        action = "**replace**" if c.replaces else "update"
        cells = [
            f"`{v.path}`: "
            + "`"
            + show_change(v).replace(" → ", "` → `")
            + "`"
            + (" (forces replacement)" if v.replaces else "")
            for v in c.values
        ]
        cells += [f"option `{o}`" for o in c.options]
        if c.provider_replaced:
            cells.append(f"provider {_short_urn(c.provider_replaced, graph)} is replaced")
        out.append(
            f"| {action} | `{c.resource.type}` | {c.resource.name} | {c.resource.capability} | "
            + _cell("<br>".join(cells))
            + " |"
        )
    out.append("")
    return "\n".join(out)


# --- the profile as it was at a git revision -------------------------------------------


def _git(cwd: Path, *args: str) -> str:
    done = _run_git(cwd, *args)
    if done.returncode != 0:
        raise UsageError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def _run_git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise OperationalError("git is not installed", hint="install git to use --against") from exc


def _extends_of(text: str) -> str | None:
    """The `extends:` of a profile document, read leniently (the loader validates later)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    value = data.get("extends") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def exists_at_revision(profile: Path, ref: str) -> bool:
    """Whether git has `profile` at `ref`. A ref git does not know is a UsageError."""
    directory = profile.resolve().parent
    while not directory.is_dir():  # a profile deleted with its folder
        directory = directory.parent
    top = Path(_git(directory, "rev-parse", "--show-toplevel").strip())
    _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    relative = profile.resolve().relative_to(top).as_posix()
    return _run_git(top, "cat-file", "-e", f"{ref}:{relative}").returncode == 0


@contextmanager
def profile_at_revision(profile: Path, ref: str) -> Iterator[Path]:
    """Check the profile and every file of its `extends` chain out of git at `ref`, into a
    temporary folder with the same relative layout; yield the profile's path there."""
    directory = profile.resolve().parent
    top = Path(_git(directory, "rev-parse", "--show-toplevel").strip())
    with tempfile.TemporaryDirectory(prefix="dsenv-diff-") as tmp:
        root = Path(tmp)
        current = profile.resolve().relative_to(top).as_posix()
        first = root / current
        seen: set[str] = set()
        while current and current not in seen:
            seen.add(current)
            text = _git(top, "show", f"{ref}:{current}")
            target = root / current
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            extends = _extends_of(text)
            if not extends:
                break
            parent = os.path.normpath(PurePosixPath(current).parent / extends).replace(os.sep, "/")
            if parent.startswith(".."):
                raise UsageError(f"{current} at {ref} extends {extends}, outside the repository")
            current = parent
        yield first
