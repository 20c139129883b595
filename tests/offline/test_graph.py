"""`dsenv graph`: Mermaid and DOT output parse, clustered by capability."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from offline_kit import PROFILES, example
from typer.testing import CliRunner

from dsenv.cli.app import app
from dsenv.errors import OperationalError
from dsenv.offline import visual

runner = CliRunner()
_NODE = re.compile(r'^    (n\d+)(\["[^"\n]*"\]|\("[^"\n]*"\))$')
_EDGE = re.compile(r"^  (n\d+) (-->|-\.->) (n\d+)$")
_SUBGRAPH = re.compile(r'^  subgraph (c\d+)\["([^"]+)"\]$')


def test_mermaid_is_a_flowchart_with_one_subgraph_per_capability_and_edges_between_declared_nodes() -> (
    None
):
    g = example("fraud").graph
    lines = visual.mermaid(g).splitlines()
    assert lines[0] == "flowchart LR"
    nodes: set[str] = set()
    clusters: list[str] = []
    depth = 0
    edges = 0
    for line in lines[1:]:
        if m := _SUBGRAPH.match(line):
            assert depth == 0
            depth, clusters = 1, [*clusters, m.group(2)]
        elif line == "  end":
            assert depth == 1
            depth = 0
        elif m := _NODE.match(line):
            assert depth == 1 and m.group(1) not in nodes
            nodes.add(m.group(1))
        elif m := _EDGE.match(line):
            assert depth == 0 and m.group(1) in nodes and m.group(3) in nodes
            edges += 1
        else:
            pytest.fail(f"unexpected Mermaid line: {line!r}")
    assert depth == 0
    assert sorted(clusters) == sorted({r.capability for r in g})
    assert len(nodes) == len(g.resources)
    assert edges >= sum(len(r.dependencies) > 0 for r in g)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_dot_parses_with_graphviz_and_has_one_cluster_per_capability() -> None:
    g = example("fraud").graph
    done = subprocess.run(
        ["dot", "-Tcanon"], input=visual.dot(g), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("subgraph cluster_") == len({r.capability for r in g})
    svg = runner.invoke(app, ["graph", str(PROFILES / "sandbox.yaml"), "--format", "svg"])
    assert svg.exit_code == 0 and "<svg" in svg.stdout


def test_svg_without_graphviz_is_a_clear_operational_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(visual.shutil, "which", lambda _name: None)
    with pytest.raises(OperationalError) as err:
        visual.svg(example("sandbox").graph)
    assert err.value.exit_code == 3
    assert "Graphviz" in err.value.message and err.value.hint and "--format dot" in err.value.hint


def test_one_capability_is_its_resources_with_their_outside_dependencies_dashed() -> None:
    g = example("fraud").graph
    text = visual.mermaid(g, ["kafka"])
    kafka = {r.name for r in g if r.capability == "kafka"}
    labels = set(re.findall(r'\["([^<"]+)<br/>|\("([^<"]+)<br/>', text))
    names = {a or b for a, b in labels}
    assert kafka <= names
    outside = names - kafka
    assert outside and all(any(r.name == n and r.capability != "kafka" for r in g) for n in outside)
    assert "classDef outside" in text
    assert len(text.splitlines()) < len(visual.mermaid(g).splitlines()) / 3
    dot = visual.dot(g, ["network"])
    assert 'label="network"' in dot and 'label="kafka"' not in dot


def test_cli_graph_capability_is_checked_and_must_be_in_the_profile() -> None:
    ok = runner.invoke(app, ["graph", str(PROFILES / "fraud.yaml"), "--capability", "storage"])
    assert ok.exit_code == 0 and 'subgraph c0["storage"]' in ok.stdout
    typo = runner.invoke(app, ["graph", str(PROFILES / "fraud.yaml"), "--capability", "strage"])
    assert typo.exit_code != 0 and "did you mean 'storage'" in str(typo.exception)
    absent = runner.invoke(app, ["graph", str(PROFILES / "sandbox.yaml"), "-c", "network"])
    assert "no resources of capability network" in str(absent.exception)
