"""`dsenv render PROFILE -o DIR`: everything the program would apply, as reviewable files.

Layout of DIR (every path relative, all writes through `dsenv.writer.Writer`):

    kubernetes/<capability>/<kind>-<namespace>-<name>.yaml   one raw object per file
    helm/<capability>/<release>.values.yaml                  each Helm release's values
    plan.json                                                 `dsenv plan --format json`
    graph.mmd, graph.dot                                      `dsenv graph`
    graph/<capability>.mmd                                    `dsenv graph --capability C`
    cost.json, cost.md                                        `dsenv cost`
    image/Dockerfile, .devcontainer/devcontainer.json         laptop parity (when available)
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from dsenv.offline.cost import estimate
from dsenv.offline.cost import render_markdown as cost_markdown
from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.offline.plan import build_plan, render_json
from dsenv.offline.visual import dot, mermaid
from dsenv.spec.model import EnvironmentSpec
from dsenv.writer import Writer

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._") or "_"


def _dump(data: Any) -> str:
    return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=120))


def object_path(r: Resource) -> str:
    meta = r.inputs.get("metadata") or {}
    parts = [
        str(r.inputs.get("kind", "Object")).lower(),
        meta.get("namespace"),
        meta.get("name") or r.name,
    ]
    return f"kubernetes/{_safe(r.capability)}/{'-'.join(_safe(str(p)) for p in parts if p)}.yaml"


def release_files(r: Resource) -> tuple[str, str]:
    inp = r.inputs
    name = str(inp.get("name") or r.name)
    header = (
        f"# Helm release {name}: chart {inp.get('chart')} {inp.get('version', '')}"
        f" in namespace {inp.get('namespace', 'default')}\n"
    )
    return f"helm/{_safe(r.capability)}/{_safe(name)}.values.yaml", header + _dump(
        inp.get("values") or {}
    )


def files_for(
    graph: ResourceGraph, spec: EnvironmentSpec | None, prices: dict[str, Any]
) -> dict[str, str]:
    """Relative path -> content of every file `render` writes."""
    files: dict[str, str] = {}
    for r in graph:
        if not r.custom or not r.type.startswith("kubernetes:"):
            continue
        if r.type.startswith("kubernetes:helm.sh/"):
            path, text = release_files(r)
            files[path] = text
        elif "kind" in r.inputs and "apiVersion" in r.inputs:
            files[object_path(r)] = _dump(r.inputs)
    files["plan.json"] = render_json(build_plan(graph, spec))
    files["graph.mmd"] = mermaid(graph)
    files["graph.dot"] = dot(graph)
    for capability in sorted({r.capability for r in graph}):
        files[f"graph/{_safe(capability)}.mmd"] = mermaid(graph, [capability])
    report = estimate(graph, spec, prices)
    files["cost.json"] = json.dumps(report.to_json(), indent=2) + "\n"
    files["cost.md"] = cost_markdown(report)
    if spec is not None:
        files.update(_laptop_files(spec))
    return dict(sorted(files.items()))


def _laptop_files(spec: EnvironmentSpec) -> dict[str, str]:
    """The team image's build context and the devcontainer that runs it on a laptop."""
    from dsenv.image import devcontainer, image_files

    files = {f"image/{path}": text for path, text in image_files(spec)}
    files[".devcontainer/devcontainer.json"] = devcontainer(spec)
    return files


def render_to(
    writer: Writer, graph: ResourceGraph, spec: EnvironmentSpec | None, prices: dict[str, Any]
) -> list[str]:
    files = files_for(graph, spec, prices)
    for path, text in files.items():
        writer.write(path, text)
    return list(files)
