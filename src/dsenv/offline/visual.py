"""`dsenv graph`: the resource graph as Mermaid, Graphviz DOT or SVG, clustered by capability.

Nodes are the resources (components drawn as rounded boxes); solid edges are dependencies
(an arrow from what is needed to what needs it), dotted edges are parent -> child. The
whole graph of a full AWS team has about 130 nodes and 390 edges; `only(graph, names)`
keeps the resources of some capabilities and, drawn dashed, the resources of other
capabilities they depend on directly: one capability is one readable picture.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from dsenv.capabilities import order as capability_order
from dsenv.errors import OperationalError
from dsenv.offline.graph import ResourceGraph


def only(graph: ResourceGraph, capabilities: Sequence[str]) -> tuple[ResourceGraph, set[str]]:
    """The resources of `capabilities` and those they depend on directly (parents and
    dependencies in other capabilities: the edges into the picture); and the URNs of the
    latter, drawn as context."""
    keep = {r.urn for r in graph if r.capability in capabilities}
    by_urn = graph.by_urn()
    context: set[str] = set()
    for urn in keep:
        r = by_urn[urn]
        context |= {d for d in (*r.dependencies, *([r.parent] if r.parent else [])) if d in by_urn}
    context -= keep
    part = ResourceGraph(
        stack=graph.stack,
        project=graph.project,
        resources=[r for r in graph if r.urn in keep or r.urn in context],
    )
    return part, context


def _view(
    graph: ResourceGraph, capabilities: Sequence[str] | None
) -> tuple[ResourceGraph, set[str]]:
    return only(graph, capabilities) if capabilities else (graph, set())


def _ids(graph: ResourceGraph) -> dict[str, str]:
    return {r.urn: f"n{i}" for i, r in enumerate(graph.resources)}


def _short(type_token: str) -> str:
    return type_token.rsplit(":", 1)[-1]


def _clusters(graph: ResourceGraph) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for r in graph:
        groups.setdefault(r.capability, []).append(r.urn)
    return {k: groups[k] for k in sorted(groups, key=capability_order)}


def _edges(graph: ResourceGraph, outside: set[str]) -> list[tuple[str, str, bool]]:
    """(from, to, is_dependency) between resources in the graph, deduplicated and sorted;
    edges into a context resource are left out."""
    known = graph.by_urn()
    edges = {(d, r.urn, True) for r in graph for d in r.dependencies if d in known}
    edges |= {(r.parent, r.urn, False) for r in graph if r.parent in known}
    return sorted(e for e in edges if e[1] not in outside)


def _mermaid_label(text: str) -> str:
    return text.replace('"', "#quot;")


def mermaid(graph: ResourceGraph, capabilities: Sequence[str] | None = None) -> str:
    graph, outside = _view(graph, capabilities)
    ids, by_urn = _ids(graph), graph.by_urn()
    lines = ["flowchart LR"]
    for i, (cap, urns) in enumerate(_clusters(graph).items()):
        lines.append(f'  subgraph c{i}["{_mermaid_label(cap)}"]')
        for urn in urns:
            r = by_urn[urn]
            label = _mermaid_label(f"{r.name}<br/><small>{_short(r.type)}</small>")
            lines.append(f'    {ids[urn]}["{label}"]' if r.custom else f'    {ids[urn]}("{label}")')
        lines.append("  end")
    for a, b, dep in _edges(graph, outside):
        lines.append(f"  {ids[a]} {'-->' if dep else '-.->'} {ids[b]}")
    if outside:
        lines.append("  classDef outside stroke-dasharray: 4 4, color: #777")
        lines.append(
            f"  class {','.join(sorted((ids[u] for u in outside), key=lambda n: int(n[1:])))} outside"
        )
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(graph: ResourceGraph, capabilities: Sequence[str] | None = None) -> str:
    graph, outside = _view(graph, capabilities)
    ids, by_urn = _ids(graph), graph.by_urn()
    lines = [
        f"digraph {_dot_quote(graph.stack or 'dsenv')} {{",
        "  rankdir=LR;",
        '  node [shape=box, fontname="Helvetica", fontsize=10];',
    ]
    for i, (cap, urns) in enumerate(_clusters(graph).items()):
        lines += [
            f"  subgraph cluster_{i} {{",
            f"    label={_dot_quote(cap)};",
            "    style=rounded;",
        ]
        for urn in urns:
            r = by_urn[urn]
            style = "" if r.custom else ', style="rounded,dashed"'
            if urn in outside:
                style = ', style="dashed", fontcolor="gray40", color="gray60"'
            label = (
                _dot_quote(r.name)[:-1] + "\\n" + _dot_quote(_short(r.type))[1:]
            )  # \n: a line break
            lines.append(f"    {ids[urn]} [label={label}{style}];")
        lines.append("  }")
    for a, b, dep in _edges(graph, outside):
        lines.append(f"  {ids[a]} -> {ids[b]}{'' if dep else ' [style=dotted, arrowhead=none]'};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def svg(graph: ResourceGraph, capabilities: Sequence[str] | None = None) -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise OperationalError(
            "SVG output needs Graphviz's `dot`, which is not installed",
            hint="install Graphviz (e.g. `apt-get install graphviz` or `brew install graphviz`), "
            "or use --format dot / --format mermaid",
        )
    done = subprocess.run(
        [exe, "-Tsvg"], input=dot(graph, capabilities), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise OperationalError(f"Graphviz dot failed: {done.stderr.strip()}")
    return done.stdout
