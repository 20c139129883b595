"""`dsenv render`: every raw object and Helm values file, written only inside DIR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from offline_kit import PROFILES, example, res
from typer.testing import CliRunner

from dsenv.cli.app import app
from dsenv.errors import UsageError
from dsenv.offline.cost import price_table
from dsenv.offline.render import files_for, object_path
from dsenv.writer import Writer

runner = CliRunner()


def _tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_render_writes_objects_values_plan_graph_and_cost_inside_dir_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = _tree(tmp_path)
    result = runner.invoke(app, ["render", str(PROFILES / "fraud.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = _tree(tmp_path) - before
    assert written and all(out in p.parents for p in written)
    rel = {p.relative_to(out).as_posix() for p in written}
    assert {"plan.json", "graph.mmd", "graph.dot", "cost.json", "cost.md"} <= rel
    graph = example("fraud").graph
    objects = [r for r in graph if r.type.startswith("kubernetes:") and "kind" in r.inputs]
    releases = [r for r in graph if r.type.startswith("kubernetes:helm.sh/")]
    assert len([p for p in rel if p.startswith("kubernetes/")]) == len(objects)
    assert len([p for p in rel if p.startswith("helm/")]) == len(releases)
    kafka = yaml.safe_load(
        (out / object_path(graph.of_type("kubernetes:kafka.strimzi.io/v1:Kafka")[0])).read_text()
    )
    assert kafka["kind"] == "Kafka" and kafka["apiVersion"] == "kafka.strimzi.io/v1"
    assert json.loads((out / "plan.json").read_text())["kind"] == "dsenv-plan"


def test_dry_run_lists_the_files_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["render", str(PROFILES / "sandbox.yaml"), "-o", str(out), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert not out.exists()
    assert "would write" in result.output and "plan.json" in result.output


def test_object_names_cannot_lead_a_file_outside_dir() -> None:
    sneaky = res(
        "kubernetes:core/v1:ConfigMap",
        "x",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "../../etc/passwd", "namespace": ".."},
        },
    )
    path = object_path(sneaky)
    assert ".." not in Path(path).parts and path.startswith("kubernetes/base/")


def test_the_writer_refuses_a_path_outside_dir(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        Writer(tmp_path / "out").write("../escape.yaml", "x")
    assert not (tmp_path / "escape.yaml").exists()


def test_every_rendered_values_file_is_the_release_values() -> None:
    env = example("fraud")
    files = files_for(env.graph, env.spec, price_table())
    for r in env.graph:
        if r.type.startswith("kubernetes:helm.sh/"):
            name = next(
                p
                for p in files
                if p.startswith("helm/")
                and p.endswith(f"/{r.inputs.get('name') or r.name}.values.yaml")
            )
            assert yaml.safe_load(files[name]) == (r.inputs.get("values") or {})
