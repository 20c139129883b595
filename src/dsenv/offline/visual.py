"""`dsenv graph`: the resource graph as Mermaid, Graphviz DOT or SVG, clustered by capability.

Nodes are the resources (components drawn as rounded boxes); solid edges are dependencies
(an arrow from what is needed to what needs it), dotted edges are parent -> child.
"""

from __future__ import annotations

import shutil
import subprocess

from dsenv.capabilities import order as capability_order
from dsenv.errors import OperationalError
from dsenv.offline.graph import ResourceGraph


def _ids(graph: ResourceGraph) -> dict[str, str]:
    return {r.urn: f"n{i}" for i, r in enumerate(graph.resources)}


def _short(type_token: str) -> str:
    return type_token.rsplit(":", 1)[-1]


def _clusters(graph: ResourceGraph) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for r in graph:
        groups.setdefault(r.capability, []).append(r.urn)
    return {k: groups[k] for k in sorted(groups, key=capability_order)}


def _edges(graph: ResourceGraph) -> list[tuple[str, str, bool]]:
    """(from, to, is_dependency) between resources in the graph, deduplicated and sorted."""
    known = graph.by_urn()
    edges = {(d, r.urn, True) for r in graph for d in r.dependencies if d in known}
    edges |= {(r.parent, r.urn, False) for r in graph if r.parent in known}
    return sorted(edges)


def _mermaid_label(text: str) -> str:
    return text.replace('"', "#quot;")


def mermaid(graph: ResourceGraph) -> str:
    ids, by_urn = _ids(graph), graph.by_urn()
    lines = ["flowchart LR"]
    for i, (cap, urns) in enumerate(_clusters(graph).items()):
        lines.append(f'  subgraph c{i}["{_mermaid_label(cap)}"]')
        for urn in urns:
            r = by_urn[urn]
            label = _mermaid_label(f"{r.name}<br/><small>{_short(r.type)}</small>")
            lines.append(f'    {ids[urn]}["{label}"]' if r.custom else f'    {ids[urn]}("{label}")')
        lines.append("  end")
    for a, b, dep in _edges(graph):
        lines.append(f"  {ids[a]} {'-->' if dep else '-.->'} {ids[b]}")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(graph: ResourceGraph) -> str:
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
            label = (
                _dot_quote(r.name)[:-1] + "\\n" + _dot_quote(_short(r.type))[1:]
            )  # \n: a line break
            lines.append(f"    {ids[urn]} [label={label}{style}];")
        lines.append("  }")
    for a, b, dep in _edges(graph):
        lines.append(f"  {ids[a]} -> {ids[b]}{'' if dep else ' [style=dotted, arrowhead=none]'};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def svg(graph: ResourceGraph) -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise OperationalError(
            "SVG output needs Graphviz's `dot`, which is not installed",
            hint="install Graphviz (e.g. `apt-get install graphviz` or `brew install graphviz`), "
            "or use --format dot / --format mermaid",
        )
    done = subprocess.run(
        [exe, "-Tsvg"], input=dot(graph), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise OperationalError(f"Graphviz dot failed: {done.stderr.strip()}")
    return done.stdout
