"""`dsenv plan`: grouping, counts, the documented JSON, and the critical-path estimate."""

from __future__ import annotations

import json
import re

import yaml
from offline_kit import PROFILES, example, graph, res
from typer.testing import CliRunner

from dsenv.cli.app import app
from dsenv.offline.graph import FORMAT_VERSION, graph_from_json
from dsenv.offline.plan import (
    build_plan,
    creation_seconds,
    critical_path,
    render_markdown,
    render_table,
)

runner = CliRunner()


def test_critical_path_follows_dependencies_and_waits_for_whole_components() -> None:
    vpc = res("aws:ec2/vpc:Vpc", "vpc")  # 10 s
    eks = res("aws:eks/cluster:Cluster", "eks", deps=(vpc.urn,))  # 600 s
    comp = res("dsenv:cluster:Cluster", "cluster", custom=False)
    ng = res("aws:eks/nodeGroup:NodeGroup", "ng", deps=(eks.urn,), parent=comp.urn)  # 240 s
    bucket = res("aws:s3/bucket:Bucket", "b")  # 3 s, off the path
    # depending on the component waits for its node group, the slowest child
    release = res("kubernetes:helm.sh/v3:Release", "hub", deps=(comp.urn,))  # 120 s
    path = critical_path(graph(vpc, eks, comp, ng, bucket, release))
    assert [s.resource.name for s in path] == ["vpc", "eks", "ng", "hub"]
    assert [(s.start, s.finish) for s in path] == [(0, 10), (10, 610), (610, 850), (850, 970)]


def test_a_child_starts_no_earlier_than_its_parent_component() -> None:
    slow = res("aws:msk/cluster:Cluster", "msk")  # 1500 s
    comp = res("dsenv:kafka:Kafka", "kafka", deps=(slow.urn,), custom=False)
    child = res("kubernetes:core/v1:Namespace", "ns", parent=comp.urn)  # 2 s
    path = critical_path(graph(slow, comp, child))
    assert [s.resource.name for s in path] == ["msk", "ns"]
    assert path[-1].finish == 1502


def test_creation_times_come_from_the_documented_table() -> None:
    assert creation_seconds(res("aws:eks/cluster:Cluster", "c")) == 600
    assert creation_seconds(res("aws:msk/cluster:Cluster", "m")) == 1500
    assert creation_seconds(res("kubernetes:helm.sh/v3:Release", "r")) == 120
    assert creation_seconds(res("dsenv:x:Y", "y", custom=False)) == 0


def test_fraud_plan_groups_by_capability_and_estimates_an_eks_sized_first_up() -> None:
    env = example("fraud")
    plan = build_plan(env.graph, env.spec)
    data = plan.to_json()
    assert data["format_version"] == FORMAT_VERSION and data["kind"] == "dsenv-plan"
    assert sum(data["summary"]["by_type"].values()) == data["summary"]["resources"]
    assert sum(data["summary"]["by_capability"].values()) == data["summary"]["resources"]
    assert {"network", "cluster", "storage", "kafka"} <= set(data["capabilities"])
    path_types = [s["type"] for s in data["estimated_first_up"]["critical_path"]]
    assert "aws:eks/cluster:Cluster" in path_types and "aws:eks/nodeGroup:NodeGroup" in path_types
    assert data["estimated_first_up"]["seconds"] >= 600 + 240
    table = render_table(plan)
    assert "kafka (" in table and "estimated time to first up: ~" in table
    assert render_markdown(plan).count("| count | type |") == len(data["capabilities"])


def test_sandbox_has_no_cloud_resources() -> None:
    data = build_plan(example("sandbox").graph).to_json()
    assert not [t for t in data["summary"]["by_type"] if t.startswith("aws:")]


def test_cli_json_and_yaml_carry_the_format_version_and_read_back_as_a_graph() -> None:
    profile = str(PROFILES / "sandbox.yaml")
    as_json = runner.invoke(app, ["plan", profile, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["format_version"] == FORMAT_VERSION
    assert len(graph_from_json(data).resources) == len(data["resources"])
    as_yaml = runner.invoke(app, ["plan", profile, "--format", "yaml"])
    assert yaml.safe_load(as_yaml.stdout)["summary"] == data["summary"]
    as_md = runner.invoke(app, ["plan", profile, "--format", "markdown"])
    assert as_md.stdout.startswith("### dsenv plan: stack")


def test_the_compact_table_names_each_resource_by_capability() -> None:
    env = example("fraud")
    table = render_table(build_plan(env.graph, env.spec))
    cluster = table.split("\ncluster (", 1)[1].split("\n\n", 1)[0]
    assert re.search(
        r"^ +3  aws:eks/nodeGroup:NodeGroup +acme-fraud-gpu, acme-fraud-large, acme-fraud-small$",
        cluster,
        re.M,
    )
    assert re.search(
        r"^ +2  aws:s3/bucket:Bucket +acme-fraud-artifacts, acme-fraud-data$", table, re.M
    )
    # many names of one type end with how many more there are, not a line per resource
    assert re.search(r"NetworkPolicy +fraud/allow-dns, .*\+\d+ more$", table, re.M)
    assert "counts by type" not in table
    # a line per type, not per resource: well under half the lines of --details
    details = render_table(build_plan(env.graph, env.spec), details=True)
    assert len(table.splitlines()) < len(details.splitlines()) / 2


def test_details_list_every_resource_with_its_physical_name_and_protection() -> None:
    env = example("fraud")
    plan = build_plan(env.graph, env.spec)
    details = render_table(plan, details=True)
    for r in env.graph:
        if r.custom:
            assert re.search(rf"^      {re.escape(r.name)}(  |$)", details, re.M), r.name
    assert re.search(r"^      cluster  acme-fraud  \(protected\)$", details, re.M)
    assert "counts by type" in details
    markdown = render_markdown(plan, details=True)
    assert "| `aws:eks/cluster:Cluster` | cluster | acme-fraud | yes |" in markdown
    compact = render_markdown(plan)
    assert "| 2 | `aws:s3/bucket:Bucket` | acme-fraud-artifacts, acme-fraud-data |" in compact


def test_cli_plan_details_flag() -> None:
    profile = str(PROFILES / "sandbox.yaml")
    compact = runner.invoke(app, ["plan", profile]).stdout
    details = runner.invoke(app, ["plan", profile, "--details"]).stdout
    assert "counts by type" in details and "counts by type" not in compact
    assert len(details.splitlines()) > len(compact.splitlines())
