"""`dsenv diff` finds what a profile edit changes, with the property paths, and calls out
replacements of stateful resources."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from offline_kit import edited, example, graph, res
from typer.testing import CliRunner

from dsenv.cli.app import app
from dsenv.errors import UsageError
from dsenv.offline.diff import changed_paths, diff_graphs
from dsenv.offline.run import offline

runner = CliRunner()


def test_changed_paths_name_nested_keys_list_indexes_and_json_documents() -> None:
    old = {"a": {"b": 1, "c": [1, 2]}, "policy": '{"Statement": [{"Action": "s3:GetObject"}]}'}
    new = {"a": {"b": 2, "c": [1, 3]}, "policy": '{"Statement": [{"Action": "s3:*"}]}', "d": 1}
    assert changed_paths(old, new) == ["a.b", "a.c[1]", "d", "policy.Statement[0].Action"]


def test_a_tier_resize_changes_the_node_group_scaling_in_place(tmp_path: Path) -> None:
    new = offline(
        edited(
            tmp_path,
            "fraud",
            (
                "instance_types: [m7i.large], min_nodes: 1, max_nodes: 10",
                "instance_types: [m7i.large], min_nodes: 1, max_nodes: 14",
            ),
        )
    )
    result = diff_graphs(example("fraud").graph, new.graph)
    assert not result.added and not result.removed
    groups = [c for c in result.changed if c.resource.type == "aws:eks/nodeGroup:NodeGroup"]
    assert [c.resource.name for c in groups] == ["acme-fraud-small"]
    assert "scalingConfig.maxSize" in groups[0].paths
    assert not groups[0].replaces
    assert not result.stateful_replacements


def test_a_removed_topic_is_one_removed_stateful_kafka_topic(tmp_path: Path) -> None:
    new = offline(
        edited(
            tmp_path,
            "fraud",
            ("    - {name: fraud-scores, partitions: 6, retention: 30d}\n", ""),
            ("topics: [transactions, fraud-scores]", "topics: [transactions]"),
        )
    )
    result = diff_graphs(example("fraud").graph, new.graph)
    assert [(r.type, r.inputs["spec"]["topicName"]) for r in result.removed] == [
        ("kubernetes:kafka.strimzi.io/v1:KafkaTopic", "fraud-scores")
    ]
    assert [r.name for r in result.stateful_removals] == [result.removed[0].name]
    user = next(c for c in result.changed if c.resource.type.endswith(":KafkaUser"))
    assert any(p.startswith("spec.authorization.acls") for p in user.paths)
    assert not result.added


def test_more_zones_replace_the_eks_cluster_through_its_subnets(tmp_path: Path) -> None:
    new = offline(
        edited(
            tmp_path,
            "fraud",
            (
                "owners: [alice@acme.example]\n",
                "owners: [alice@acme.example]\ntarget: {availability_zones: 3}\n",
            ),
        )
    )
    result = diff_graphs(example("fraud").graph, new.graph)
    cluster = next(c for c in result.changed if c.resource.type == "aws:eks/cluster:Cluster")
    assert "vpcConfig.subnetIds" in cluster.replace_paths
    assert cluster.replaces_stateful
    assert cluster in result.stateful_replacements
    assert {r.type for r in result.added} >= {"aws:ec2/subnet:Subnet"}


def test_a_changed_replace_trigger_deep_in_a_list_is_matched_by_index() -> None:
    pool = "kubernetes:kafka.strimzi.io/v1:KafkaNodePool"
    old = graph(
        res(
            pool,
            "p",
            {
                "spec": {
                    "storage": {
                        "type": "jbod",
                        "volumes": [{"id": 0, "type": "persistent-claim", "size": "100Gi"}],
                    }
                }
            },
        )
    )
    grown = graph(
        res(
            pool,
            "p",
            {
                "spec": {
                    "storage": {
                        "type": "jbod",
                        "volumes": [{"id": 0, "type": "persistent-claim", "size": "200Gi"}],
                    }
                }
            },
        )
    )
    ephemeral = graph(
        res(
            pool,
            "p",
            {
                "spec": {
                    "storage": {
                        "type": "jbod",
                        "volumes": [{"id": 0, "type": "ephemeral", "size": "100Gi"}],
                    }
                }
            },
        )
    )
    assert not diff_graphs(old, grown).changed[0].replaces
    assert diff_graphs(old, ephemeral).changed[0].replace_paths == ("spec.storage.volumes[0].type",)


def test_cli_fail_on_replace_exits_1_and_markdown_calls_the_replacement_out(tmp_path: Path) -> None:
    old = Path(__file__).resolve().parents[2] / "profiles" / "fraud.yaml"
    new = edited(
        tmp_path,
        "fraud",
        (
            "owners: [alice@acme.example]\n",
            "owners: [alice@acme.example]\ntarget: {availability_zones: 3}\n",
        ),
    )
    result = runner.invoke(
        app, ["diff", str(old), str(new), "--format", "markdown", "--fail-on-replace"]
    )
    assert result.exit_code == 1, result.output
    assert "replace stateful resources" in result.output
    assert "`vpcConfig.subnetIds`" in result.output
    same = runner.invoke(app, ["diff", str(old), str(old), "--fail-on-replace"])
    assert same.exit_code == 0 and "no changes" in same.output


@pytest.mark.slow
def test_against_a_git_ref_reads_the_profile_and_its_org_at_that_revision(tmp_path: Path) -> None:
    profile = edited(tmp_path, "fraud")
    repo = tmp_path / "profiles"

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    git(
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "empty",
    )
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "profiles")
    org = repo / "org" / "acme.yaml"
    org.write_text(org.read_text().replace("cost-center: data", "cost-center: research"))
    result = runner.invoke(app, ["diff", str(profile), "--against", "HEAD", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"removed": 0' in result.output and '"added": 0' in result.output
    assert "tags.cost-center" in result.output  # the org edit reached the team's resources
    bad = runner.invoke(app, ["diff", str(profile), "--against", "no-such-ref"])
    # CliRunner bypasses the app's one error handler, which turns this into exit code 2
    assert isinstance(bad.exception, UsageError) and bad.exception.exit_code == 2
    assert "no-such-ref" in bad.exception.message
