"""`dsenv diff`: what changes between two resource graphs, and which changes replace what.

Resources are matched by URN, as the engine matches them: a renamed resource is one
removal and one addition. A changed resource lists the input property paths that differ;
a path listed in `dsenv/data/replace_triggers.yaml` for its type forces a replacement, and
the replacement of a stateful resource (a bucket, a cluster, a volume ...) is called out.
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

from dsenv.errors import OperationalError, UsageError
from dsenv.offline.data import bundled
from dsenv.offline.graph import FORMAT_VERSION, Resource, ResourceGraph

_OPTIONS = ("protect", "delete_before_replace", "ignore_changes", "provider")


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted property paths (lists indexed as `[i]`) where `old` and `new` differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        paths: list[str] = []
        for key in sorted(set(old) | set(new)):
            sub = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                paths.append(sub)
            else:
                paths += changed_paths(old[key], new[key], sub)
        return paths
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            p
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for p in changed_paths(a, b, f"{prefix}[{i}]")
        ]
    if (
        isinstance(old, str)
        and isinstance(new, str)
        and _is_json_document(old)
        and _is_json_document(new)
    ):
        # policy documents are JSON strings: report the paths inside them
        return changed_paths(json.loads(old), json.loads(new), prefix)
    return [] if old == new else [prefix or "."]


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


@dataclass(frozen=True)
class Change:
    resource: Resource  # the new one
    old: Resource
    paths: tuple[str, ...]  # changed input paths
    options: tuple[str, ...]  # changed resource options
    replace_paths: tuple[str, ...]  # the changed paths that force a replacement
    stateful: bool

    @property
    def replaces(self) -> bool:
        return bool(self.replace_paths)

    @property
    def replaces_stateful(self) -> bool:
        return self.replaces and self.stateful


@dataclass
class Diff:
    added: list[Resource] = field(default_factory=list)
    removed: list[Resource] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unchanged: int = 0

    @property
    def stateful_replacements(self) -> list[Change]:
        return [c for c in self.changed if c.replaces_stateful]

    @property
    def stateful_removals(self) -> list[Resource]:
        return [r for r in self.removed if r.custom and is_stateful(r.type)]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "kind": "dsenv-diff",
            "summary": {
                "added": len(self.added),
                "removed": len(self.removed),
                "changed": len(self.changed),
                "replaced": sum(c.replaces for c in self.changed),
                "stateful_replacements": len(self.stateful_replacements),
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
                }
                for r in self.removed
            ],
            "changed": [
                {
                    "urn": c.resource.urn,
                    "type": c.resource.type,
                    "capability": c.resource.capability,
                    "paths": list(c.paths),
                    "options": list(c.options),
                    "replace": c.replaces,
                    "replace_paths": list(c.replace_paths),
                    "stateful": c.stateful,
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


def diff_graphs(old: ResourceGraph, new: ResourceGraph) -> Diff:
    before, after = old.by_urn(), new.by_urn()
    result = Diff()
    result.added = [after[u] for u in sorted(set(after) - set(before)) if after[u].custom]
    result.removed = [before[u] for u in sorted(set(before) - set(after)) if before[u].custom]
    for urn in sorted(set(before) & set(after)):
        a, b = before[urn], after[urn]
        if not b.custom:
            continue
        paths = changed_paths(a.inputs, b.inputs)
        options = [o for o in _OPTIONS if getattr(a, o) != getattr(b, o)]
        if not paths and not options:
            result.unchanged += 1
            continue
        regexes = [_trigger_regex(t) for t in replace_triggers(b.type)]
        replace = tuple(p for p in paths if any(rx.match(p) for rx in regexes))
        result.changed.append(
            Change(b, a, tuple(paths), tuple(options), replace, is_stateful(b.type))
        )
    return result


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


def render_lines(
    title: str, lines: Sequence[Line], summary: str, warnings: Sequence[str] = ()
) -> str:
    """The one text layout of a change listing."""
    out = [title, ""]
    for line in lines:
        stateful = is_stateful(line.type)
        note = "  (stateful: its data is deleted)" if line.mark == "-" and stateful else ""
        out.append(f"{line.mark} {line.type}  {line.name}  [{line.capability}]{note}")
        for p in line.paths:
            flag = (
                "  REPLACES" + (" (stateful)" if stateful else "")
                if p in line.replace_paths
                else ""
            )
            out.append(f"      {p}{flag}")
        out += [f"      option {o}" for o in line.options]
    if not lines:
        out.append("no changes")
    out += ["", summary, *warnings]
    return "\n".join(out) + "\n"


def render_text(diff: Diff, old_label: str, new_label: str) -> str:
    lines = [Line("+", r.type, r.name, r.capability) for r in diff.added]
    lines += [Line("-", r.type, r.name, r.capability) for r in diff.removed]
    lines += [
        Line(
            "+-" if c.replaces else "~ ",
            c.resource.type,
            c.resource.name,
            c.resource.capability,
            c.paths,
            c.replace_paths,
            c.options,
        )
        for c in diff.changed
    ]
    s = diff.to_json()["summary"]
    summary = (
        f"{s['added']} to add, {s['changed']} to change ({s['replaced']} replaced), "
        f"{s['removed']} to remove, {s['unchanged']} unchanged"
    )
    warnings = [
        f"WARNING: {c.resource.type} {c.resource.name} would be REPLACED "
        f"(changed: {', '.join(c.replace_paths)}): its data or service is lost"
        for c in diff.stateful_replacements
    ]
    return render_lines(f"dsenv diff: {old_label} -> {new_label}", lines, summary, warnings)


def render_markdown(diff: Diff, old_label: str, new_label: str) -> str:
    s = diff.to_json()["summary"]
    out = [
        f"### dsenv diff: `{old_label}` → `{new_label}`",
        "",
        f"**{s['added']}** to add, **{s['changed']}** to change ({s['replaced']} replaced), "
        f"**{s['removed']}** to remove, {s['unchanged']} unchanged.",
        "",
    ]
    if diff.stateful_replacements:
        out += [
            "> [!CAUTION]",
            "> These changes **replace stateful resources** (their data or service is lost):",
        ]
        out += [
            f"> - `{c.resource.type}` **{c.resource.name}**: {', '.join(f'`{p}`' for p in c.replace_paths)}"
            for c in diff.stateful_replacements
        ]
        out.append("")
    if diff.empty:
        out += ["No changes.", ""]
        return "\n".join(out)
    out += ["| | type | name | capability | changed properties |", "|---|---|---|---|---|"]
    for r in diff.added:
        out.append(f"| add | `{r.type}` | {r.name} | {r.capability} | |")
    for r in diff.removed:
        note = " (stateful)" if is_stateful(r.type) else ""
        out.append(f"| remove | `{r.type}` | {r.name}{note} | {r.capability} | |")
    for c in diff.changed:
        action = "**replace**" if c.replaces else "update"
        paths = ", ".join(
            f"`{p}`" + (" (forces replacement)" if p in c.replace_paths else "")
            for p in (*c.paths, *c.options)
        )
        out.append(
            f"| {action} | `{c.resource.type}` | {c.resource.name} | {c.resource.capability} | {paths} |"
        )
    out.append("")
    return "\n".join(out)


# --- the profile as it was at a git revision -------------------------------------------


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise OperationalError("git is not installed", hint="install git to use --against") from exc
    if done.returncode != 0:
        raise UsageError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def _extends_of(text: str) -> str | None:
    """The `extends:` of a profile document, read leniently (the loader validates later)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    value = data.get("extends") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


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
