"""`dsenv plan`: what a profile creates, grouped by capability, and how long a first `up` takes.

The time estimate is the critical path of the resource graph, each resource weighted by the
typical creation time of its type (`dsenv/data/creation_times.yaml`). A resource starts when
every resource it depends on is done and its parent component has started; a component is
done when all of its children are (so depending on a component waits for all of it, as the
engine does).
"""

from __future__ import annotations

import fnmatch
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from dsenv import __version__
from dsenv.capabilities import CAPABILITIES
from dsenv.capabilities import order as capability_order
from dsenv.offline.data import bundled
from dsenv.offline.graph import FORMAT_VERSION, Resource, ResourceGraph
from dsenv.spec.model import EnvironmentSpec


def creation_seconds(resource: Resource, table: dict[str, Any] | None = None) -> int:
    if not resource.custom:
        return 0
    table = table or bundled("creation_times.yaml")
    for row in table["times"]:
        if fnmatch.fnmatchcase(resource.type, row["type"]):
            return int(row["seconds"])
    return int(table["default_seconds"])


@dataclass(frozen=True)
class Step:
    resource: Resource
    start: int  # seconds after `up` begins
    finish: int


def critical_path(graph: ResourceGraph, table: dict[str, Any] | None = None) -> list[Step]:
    """The chain of custom resources that ends last, first to last."""
    by_urn = graph.by_urn()
    children: dict[str, list[str]] = {}
    for r in graph:
        if r.parent:
            children.setdefault(r.parent, []).append(r.urn)
    start: dict[str, int] = {}
    finish: dict[str, int] = {}
    gate: dict[str, str | None] = {}  # what a resource's start waited for
    done_by: dict[str, str | None] = {}  # for a component: the child that finished last
    visiting: set[str] = set()

    def start_of(urn: str) -> int:
        if urn in start:
            return start[urn]
        if urn in visiting:  # a cycle cannot run; keep the estimate finite
            return 0
        visiting.add(urn)
        r = by_urn[urn]
        best, why = 0, None
        for dep in r.dependencies:
            if dep in by_urn and finish_of(dep) > best:
                best, why = finish_of(dep), dep
        if r.parent in by_urn and start_of(r.parent) > best:
            best, why = start_of(r.parent), gate.get(r.parent)
        visiting.discard(urn)
        start[urn], gate[urn] = best, why
        return best

    def finish_of(urn: str) -> int:
        if urn in finish:
            return finish[urn]
        r = by_urn[urn]
        begin = start_of(urn)
        end, last = begin + creation_seconds(r, table), None
        for child in children.get(urn, ()):
            if child not in visiting and finish_of(child) > end:
                end, last = finish_of(child), child
        finish[urn], done_by[urn] = end, last
        return end

    for urn in by_urn:
        finish_of(urn)
    if not by_urn:
        return []
    # Walk back from the resource that ends last, through what each one waited for.
    end_urn: str | None = max(sorted(by_urn), key=lambda u: finish[u])
    chain: list[Step] = []
    seen: set[str] = set()
    while end_urn is not None and end_urn not in seen:
        seen.add(end_urn)
        r = by_urn[end_urn]
        if not r.custom:  # a component: continue from the child that kept it busy
            end_urn = done_by.get(end_urn) or gate.get(end_urn)
            continue
        chain.append(Step(r, start[end_urn], finish[end_urn]))
        end_urn = gate.get(end_urn)
    chain.reverse()
    return chain


@dataclass(frozen=True)
class Plan:
    graph: ResourceGraph
    spec: EnvironmentSpec | None
    path: list[Step]

    @property
    def estimated_seconds(self) -> int:
        return self.path[-1].finish if self.path else 0

    def capabilities(self) -> dict[str, list[Resource]]:
        groups: dict[str, list[Resource]] = {}
        for r in self.graph:
            groups.setdefault(r.capability, []).append(r)
        return {k: groups[k] for k in sorted(groups, key=capability_order)}

    def to_json(self) -> dict[str, Any]:
        custom = [r for r in self.graph if r.custom]
        caps = self.capabilities()
        return {
            "format_version": FORMAT_VERSION,
            "kind": "dsenv-plan",
            "dsenv_version": __version__,
            "project": self.graph.project,
            "stack": self.graph.stack,
            "profile": _profile_summary(self.spec),
            "summary": {
                "resources": len(custom),
                "components": len(self.graph.resources) - len(custom),
                "by_type": dict(sorted(Counter(r.type for r in custom).items())),
                "by_capability": {k: sum(r.custom for r in v) for k, v in caps.items()},
            },
            "estimated_first_up": {
                "seconds": self.estimated_seconds,
                "minutes": round(self.estimated_seconds / 60),
                "critical_path": [
                    {
                        "urn": s.resource.urn,
                        "type": s.resource.type,
                        "name": s.resource.name,
                        "start_seconds": s.start,
                        "seconds": s.finish - s.start,
                    }
                    for s in self.path
                ],
            },
            "capabilities": {
                k: dict(sorted(Counter(r.type for r in v if r.custom).items()))
                for k, v in caps.items()
            },
            "resources": [r.to_json() for r in self.graph],
            "outputs": self.graph.outputs,
        }


def _profile_summary(spec: EnvironmentSpec | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    return {
        "team": spec.team,
        "org": spec.org,
        "provider": spec.provider,
        "region": spec.aws.region if spec.aws else None,
        "kube_context": spec.kube_context,
        "kubernetes_version": spec.kubernetes_version,
    }


def build_plan(graph: ResourceGraph, spec: EnvironmentSpec | None = None) -> Plan:
    return Plan(graph, spec, critical_path(graph))


def _duration(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes} min" if minutes else f"{secs} s"


def _title(plan: Plan) -> str:
    spec = plan.spec
    where = ""
    if spec is not None:
        where = f", {spec.provider} {spec.aws.region if spec.aws else spec.kube_context}"
    return f"dsenv plan: stack {plan.graph.stack}{where}"


#: Width of the names column of the compact table before it says "+N more".
_NAMES_WIDTH = 78


def _label(r: Resource) -> str:
    """How a resource is named for people: its physical name, else its logical name."""
    return r.physical_name or r.name


def _names(resources: list[Resource], width: int = _NAMES_WIDTH) -> str:
    """Names joined with ", " up to `width` characters, then how many more."""
    names = sorted(_label(r) for r in resources)
    out: list[str] = []
    used = 0
    for i, name in enumerate(names):
        left = len(names) - i - 1
        more = f", +{left} more" if left else ""
        if out and used + 2 + len(name) + len(more) > width:
            return ", ".join(out) + f", +{len(names) - i} more"
        out.append(name)
        used += len(name) + (2 if i else 0)
    return ", ".join(out)


def _by_type(resources: list[Resource]) -> dict[str, list[Resource]]:
    groups: dict[str, list[Resource]] = {}
    for r in resources:
        if r.custom:
            groups.setdefault(r.type, []).append(r)
    return dict(sorted(groups.items()))


def _summary_lines(plan: Plan) -> list[str]:
    data = plan.to_json()
    s = data["summary"]
    lines = [
        f"{s['resources']} resources to create in {len(data['capabilities'])} capabilities "
        f"({s['components']} components)",
        f"estimated time to first up: ~{_duration(plan.estimated_seconds)}",
    ]
    if plan.path:
        lines.append("critical path:")
        lines += [
            f"  {_duration(st.start):>10}  +{_duration(st.finish - st.start):<8} {st.resource.type}  {st.resource.name}"
            for st in plan.path
        ]
    return lines


def render_table(plan: Plan, *, details: bool = False) -> str:
    """Resources by capability: compact (each type with its count and names), or with
    `details` every resource on its own line (logical name, physical name, protection),
    then counts by type."""
    lines = [_title(plan), ""]
    summaries = {c.name: c.summary for c in CAPABILITIES}
    for cap, resources in plan.capabilities().items():
        custom = [r for r in resources if r.custom]
        about = f": {summaries[cap]}" if cap in summaries else ""
        lines.append(f"{cap} ({len(custom)} resources){about}")
        groups = _by_type(custom)
        if details:
            for type_token, items in groups.items():
                lines.append(f"  {type_token}")
                for r in sorted(items, key=lambda r: r.name):
                    physical = r.physical_name
                    named = f"  {physical}" if physical and physical != r.name else ""
                    lines.append(f"      {r.name}{named}{'  (protected)' if r.protect else ''}")
        else:
            width = max((len(t) for t in groups), default=0)
            for type_token, items in groups.items():
                lines.append(f"  {len(items):>3}  {type_token:<{width}}  {_names(items)}")
        lines.append("")
    if details:
        data = plan.to_json()
        lines.append("counts by type")
        width = max((len(t) for t in data["summary"]["by_type"]), default=20)
        lines += [f"  {n:>4}  {t:<{width}}".rstrip() for t, n in data["summary"]["by_type"].items()]
        lines.append("")
    lines += _summary_lines(plan)
    return "\n".join(lines) + "\n"


def render_markdown(plan: Plan, *, details: bool = False) -> str:
    data = plan.to_json()
    out = [
        f"### {_title(plan)}",
        "",
        f"**{data['summary']['resources']} resources** in {len(data['capabilities'])} capabilities; "
        f"estimated time to first `up`: **~{_duration(plan.estimated_seconds)}**.",
        "",
    ]
    for cap, resources in plan.capabilities().items():
        groups = _by_type([r for r in resources if r.custom])
        out += [f"#### {cap} ({sum(len(v) for v in groups.values())})", ""]
        if details:
            out += ["| type | name | physical name | protected |", "|---|---|---|---|"]
            for type_token, items in groups.items():
                out += [
                    f"| `{type_token}` | {r.name} | {r.physical_name or ''} | {'yes' if r.protect else ''} |"
                    for r in sorted(items, key=lambda r: r.name)
                ]
        else:
            out += ["| count | type | names |", "|---:|---|---|"]
            out += [f"| {len(v)} | `{t}` | {_names(v)} |" for t, v in groups.items()]
        out.append("")
    if plan.path:
        out += [
            "#### Critical path",
            "",
            "| starts at | takes | type | name |",
            "|---:|---:|---|---|",
        ]
        out += [
            f"| {_duration(s.start)} | {_duration(s.finish - s.start)} | `{s.resource.type}` | {s.resource.name} |"
            for s in plan.path
        ]
        out.append("")
    return "\n".join(out)


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_json(), indent=2, sort_keys=False) + "\n"


def render_yaml(plan: Plan) -> str:
    import yaml

    return str(yaml.safe_dump(plan.to_json(), sort_keys=False, default_flow_style=False, width=100))
