"""`dsenv diff` predicts what the engine will do: what a profile edit changes (old -> new),
what it replaces, what that replacement replaces in turn, and which data it loses."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path

import pytest
from offline_kit import PROFILES, edited, example, graph, res
from typer.testing import CliRunner

from dsenv.cli.app import app
from dsenv.errors import UsageError
from dsenv.offline.diff import (
    MISSING,
    PropertyChange,
    changed_paths,
    diff_graphs,
    render_markdown,
    render_text,
    show_change,
)
from dsenv.offline.graph import COMPUTED, SECRET_MASK, Resource
from dsenv.offline.run import offline

runner = CliRunner()
FRAUD = PROFILES / "fraud.yaml"
OWNERS = "owners: [alice@acme.example]\n"


def _caution_blocks(markdown: str) -> list[str]:
    """The text of each `> [!CAUTION]` block."""
    blocks = re.findall(r"> \[!CAUTION\]\n((?:> .*\n)+)", markdown)
    return [b.replace("> ", "") for b in blocks]


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
    change = next(v for v in groups[0].values if v.path == "scalingConfig.maxSize")
    assert (change.old, change.new, change.replaces) == (10, 14, False)
    assert not groups[0].replaces
    assert not result.data_loss


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
    assert result.data_loss
    user = next(c for c in result.changed if c.resource.type.endswith(":KafkaUser"))
    assert any(p.startswith("spec.authorization.acls") for p in user.paths)
    assert not result.added


def test_more_zones_replace_the_eks_cluster_through_its_subnets(tmp_path: Path) -> None:
    new = offline(edited(tmp_path, "fraud", (OWNERS, OWNERS + "target: {availability_zones: 3}\n")))
    result = diff_graphs(example("fraud").graph, new.graph)
    cluster = next(c for c in result.changed if c.resource.type == "aws:eks/cluster:Cluster")
    # the new zone's subnet does not exist yet: its ID is unknown in the cluster's inputs
    assert "vpcConfig.subnetIds" in cluster.replace_paths
    assert cluster.replaces_stateful and cluster in result.stateful_replacements
    assert {r.type for r in result.added} >= {"aws:ec2/subnet:Subnet"}


def test_a_changed_replace_trigger_deep_in_a_list_is_matched_by_index() -> None:
    pool = "kubernetes:kafka.strimzi.io/v1:KafkaNodePool"

    def volume(kind: str, size: str) -> dict[str, object]:
        return {
            "spec": {
                "storage": {"type": "jbod", "volumes": [{"id": 0, "type": kind, "size": size}]}
            }
        }

    old = graph(res(pool, "p", volume("persistent-claim", "100Gi")))
    grown = graph(res(pool, "p", volume("persistent-claim", "200Gi")))
    ephemeral = graph(res(pool, "p", volume("ephemeral", "100Gi")))
    assert not diff_graphs(old, grown).changed[0].replaces
    assert diff_graphs(old, ephemeral).changed[0].replace_paths == ("spec.storage.volumes[0].type",)


# --- the cascade: a replacement makes what reads it unknown, and replaces in turn -------


def _with(r: Resource, **changes: object) -> Resource:
    return dataclasses.replace(r, **changes)  # type: ignore[arg-type]


def test_a_replacement_makes_dependent_inputs_computed_and_replaces_along_their_triggers() -> None:
    """vpc (replaced) -> subnet (reads the VPC ID: a trigger, replaced) -> NAT gateway (reads
    the subnet ID: a trigger, replaced); the internet gateway reads the VPC ID but not as a
    trigger (updated); the EIP only depends on the VPC (untouched); a resource whose
    provider is replaced is replaced."""
    vpc = res("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})
    vpc = _with(vpc, outputs={"id": "vpc-0123456789abcdef0"})
    subnet = res(
        "aws:ec2/subnet:Subnet",
        "subnet",
        {"vpcId": "vpc-0123456789abcdef0", "cidrBlock": "10.0.0.0/20"},
        deps=(vpc.urn,),
    )
    subnet = _with(
        subnet, property_dependencies={"vpcId": (vpc.urn,)}, outputs={"id": "subnet-0aaa111"}
    )
    nat = res(
        "aws:ec2/natGateway:NatGateway", "nat", {"subnetId": "subnet-0aaa111"}, deps=(subnet.urn,)
    )
    nat = _with(nat, property_dependencies={"subnetId": (subnet.urn,)})
    igw = res(
        "aws:ec2/internetGateway:InternetGateway",
        "igw",
        {"vpcId": "vpc-0123456789abcdef0", "tags": {"Name": "igw"}},
        deps=(vpc.urn,),
    )
    igw = _with(igw, property_dependencies={"vpcId": (vpc.urn,)})
    eip = res("aws:ec2/eip:Eip", "eip", {"domain": "vpc"}, deps=(vpc.urn,))
    provider = res("pulumi:providers:aws", "aws", {"region": "eu-west-1"})
    provider = _with(provider, outputs={"id": "aws-provider-0001"})
    bucket = res("aws:s3/bucket:Bucket", "data", {"bucket": "acme-data"})
    bucket = _with(bucket, provider=f"{provider.urn}::aws-provider-0001")
    old = graph(vpc, subnet, nat, igw, eip, provider, bucket)
    new = graph(
        _with(vpc, inputs={"cidrBlock": "10.9.0.0/16"}),
        subnet,
        nat,
        igw,
        eip,
        _with(provider, inputs={"region": "us-east-1"}),
        bucket,
    )
    result = diff_graphs(old, new)
    by_name = {c.resource.name: c for c in result.changed}
    assert sorted(by_name) == ["aws", "data", "igw", "nat", "subnet", "vpc"]  # not the EIP
    assert by_name["subnet"].replaces and by_name["nat"].replaces
    vpc_id = next(v for v in by_name["subnet"].values if v.path == "vpcId")
    assert (vpc_id.old, vpc_id.new, vpc_id.replaces) == ("vpc-0123456789abcdef0", COMPUTED, True)
    assert by_name["subnet"].because == (vpc.urn,)
    assert by_name["nat"].because == (subnet.urn,)
    assert not by_name["igw"].replaces and by_name["igw"].paths == ("vpcId",)
    assert by_name["data"].provider_replaced == provider.urn and by_name["data"].replaces
    assert [c.resource.name for c in result.stateful_replacements] == ["data"]
    assert result.unchanged == 1 and result.data_loss


def test_a_secret_built_from_a_replaced_resource_is_unknown_as_a_whole() -> None:
    cluster = res("aws:eks/cluster:Cluster", "eks", {"name": "team", "roleArn": "arn:one"})
    cluster = _with(cluster, outputs={"endpoint": "https://ABCDEF0123.gr7.eks.amazonaws.com"})
    provider = res("pulumi:providers:kubernetes", "k8s", {"kubeconfig": SECRET_MASK})
    provider = _with(provider, property_dependencies={"kubeconfig": (cluster.urn,)})
    ns = res("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": "team"}})
    ns = _with(ns, provider=f"{provider.urn}::k8s-0001")
    old = graph(cluster, provider, ns)
    new = graph(_with(cluster, inputs={"name": "team", "roleArn": "arn:two"}), provider, ns)
    result = diff_graphs(old, new)
    by_name = {c.resource.name: c for c in result.changed}
    kubeconfig = by_name["k8s"].values[0]
    assert (kubeconfig.old, kubeconfig.new, kubeconfig.replaces) == (SECRET_MASK, COMPUTED, True)
    assert by_name["ns"].provider_replaced == provider.urn
    assert {c.resource.name for c in result.stateful_replacements} == {"eks", "ns"}


def test_the_vpc_cidr_cascade_replaces_the_cluster_node_groups_and_everything_in_it(
    tmp_path: Path,
) -> None:
    new_profile = edited(tmp_path, "fraud", (OWNERS, OWNERS + "target: {vpc_cidr: 10.50.0.0/16}\n"))
    result = diff_graphs(example("fraud").graph, offline(new_profile).graph)
    by_type: dict[str, list[str]] = {}
    for c in result.changed:
        if c.replaces:
            by_type.setdefault(c.resource.type, []).append(c.resource.name)
    cluster = next(c for c in result.changed if c.resource.type == "aws:eks/cluster:Cluster")
    subnet_ids = [v for v in cluster.values if v.path.startswith("vpcConfig.subnetIds")]
    assert subnet_ids and all(v.new == COMPUTED and v.replaces for v in subnet_ids)
    assert cluster.blocked_by_protect  # the engine refuses it until protect is removed
    assert sorted(by_type["aws:eks/nodeGroup:NodeGroup"]) == [
        "acme-fraud-gpu",
        "acme-fraud-large",
        "acme-fraud-small",
    ]
    assert by_type["aws:iam/openIdConnectProvider:OpenIdConnectProvider"] == ["cluster"]
    assert sorted(by_type["pulumi:providers:kubernetes"]) == ["cluster", "team"]
    # a new cluster is empty: every object in it is created again
    in_cluster = [
        r for r in example("fraud").graph if r.custom and r.type.startswith("kubernetes:")
    ]
    replaced = {c.resource.urn for c in result.changed if c.replaces}
    assert in_cluster and {r.urn for r in in_cluster} <= replaced
    assert {c.resource.type for c in result.stateful_replacements} >= {
        "aws:eks/cluster:Cluster",
        "kubernetes:core/v1:Namespace",
        "kubernetes:kafka.strimzi.io/v1:Kafka",
    }
    # the IAM roles' trust policies read the new cluster's OIDC issuer: updated, not replaced
    roles = [c for c in result.changed if c.resource.type == "aws:iam/role:Role"]
    assert roles and all(not c.replaces and c.values[0].new == COMPUTED for c in roles)


def test_cli_the_vpc_cidr_change_fails_the_gate_under_either_name(tmp_path: Path) -> None:
    new = edited(tmp_path, "fraud", (OWNERS, OWNERS + "target: {vpc_cidr: 10.50.0.0/16}\n"))
    for flag in ("--fail-on-replace", "--fail-on-data-loss"):
        result = runner.invoke(app, ["diff", str(FRAUD), str(new), flag])
        assert result.exit_code == 1, result.output
    text = result.stdout
    assert re.search(r"^\+- aws:eks/cluster:Cluster  cluster  \[cluster\]$", text, re.M)
    assert re.search(r"vpcConfig\.subnetIds\[0\]: \"subnet-\w+\" → \[computed\]  REPLACES", text)
    assert "DATA LOSS: aws:eks/cluster:Cluster cluster [cluster] is REPLACED" in text
    ungated = runner.invoke(app, ["diff", str(FRAUD), str(new)])
    assert ungated.exit_code == 0
    same = runner.invoke(app, ["diff", str(FRAUD), str(FRAUD), "--fail-on-data-loss"])
    assert same.exit_code == 0 and "no changes" in same.stdout
    as_json = json.loads(runner.invoke(app, ["diff", str(FRAUD), str(new), "-f", "json"]).stdout)
    assert as_json["summary"]["data_loss"] is True
    values = [v for c in as_json["changed"] for v in c["values"]]
    assert any(v["new"] == COMPUTED and v["replace"] for v in values)


def test_removing_kafka_deletes_its_data_fails_the_gate_and_warns_per_resource(
    tmp_path: Path,
) -> None:
    text = (PROFILES / "fraud.yaml").read_text(encoding="utf-8")
    kafka = re.search(r"^kafka:\n(?:  .*\n)+", text, re.M)
    assert kafka is not None
    new = edited(tmp_path, "fraud", (kafka.group(0), ""))
    result = diff_graphs(example("fraud").graph, offline(new).graph)
    lost = {r.type for r in result.stateful_removals}
    assert lost >= {
        "kubernetes:kafka.strimzi.io/v1:Kafka",
        "kubernetes:kafka.strimzi.io/v1:KafkaNodePool",
        "kubernetes:kafka.strimzi.io/v1:KafkaTopic",
    }
    blocks = _caution_blocks(render_markdown(result, "old", "new"))
    assert len(blocks) == len(result.stateful_removals)
    for r, block in zip(result.stateful_removals, blocks, strict=True):
        assert f"`{r.type}` {r.name}" in block and "is **deleted**" in block
    gate = runner.invoke(app, ["diff", str(FRAUD), str(new), "--fail-on-data-loss"])
    assert gate.exit_code == 1
    assert "DATA LOSS: kubernetes:kafka.strimzi.io/v1:Kafka kafka-cluster [kafka] is DELETED" in (
        gate.stdout
    )


def test_renaming_the_team_deletes_both_buckets_and_fails_the_gate(tmp_path: Path) -> None:
    new = edited(tmp_path, "fraud", ("\nname: fraud\n", "\nname: risk\n"))
    result = diff_graphs(example("fraud").graph, offline(new).graph)
    buckets = [
        r.inputs["bucket"] for r in result.stateful_removals if r.type == "aws:s3/bucket:Bucket"
    ]
    assert sorted(buckets) == ["acme-fraud-artifacts", "acme-fraud-data"]
    markdown = render_markdown(result, "old", "new")
    assert "the stack changes from acme-fraud to acme-risk" in markdown
    blocks = _caution_blocks(markdown)
    assert any("acme-fraud-data" in b and "destroy` of acme-fraud stops" in b for b in blocks)
    gate = runner.invoke(app, ["diff", str(FRAUD), str(new), "--fail-on-replace"])
    assert gate.exit_code == 1


def test_old_and_new_values_show_in_text_and_markdown(tmp_path: Path) -> None:
    new = edited(
        tmp_path,
        "fraud",
        (
            "instance_types: [m7i.large], min_nodes: 1, max_nodes: 10",
            "instance_types: [m7i.large], min_nodes: 1, max_nodes: 14",
        ),
    )
    result = diff_graphs(example("fraud").graph, offline(new).graph)
    text = render_text(result, "old", "new")
    assert "      scalingConfig.maxSize: 10 → 14\n" in text
    assert "| `scalingConfig.maxSize`: `10` → `14` |" in render_markdown(result, "old", "new")


def test_long_texts_show_around_their_first_difference_and_secrets_stay_masked() -> None:
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/fraud-workspace:"
    tag = PropertyChange("image", image + "5e332286ea93", image + "e206b838a45a")
    assert show_change(tag) == '"…fraud-workspace:5e332286ea93" → "…fraud-workspace:e206b838a45a"'
    doc = PropertyChange("data.job", "a: 1\nimage: x:old\n", "a: 1\nimage: x:new\n")
    assert show_change(doc) == 'line 2: "image: x:old" → "image: x:new"'
    assert show_change(PropertyChange("stringData", SECRET_MASK, SECRET_MASK)) == (
        "[secret] → [secret]"
    )
    plain_password = PropertyChange("auth.password", "hunter2", "hunter3")
    assert show_change(plain_password) == "[secret] → [secret]"
    assert show_change(PropertyChange("x", MISSING, 3)) == "(none) → 3"


# --- --against: the profile at a git revision ------------------------------------------


def _git_repo(tmp_path: Path) -> tuple[Path, Path]:
    profile = edited(tmp_path, "fraud")
    repo = tmp_path / "profiles"

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", "org", "sandbox.yaml")
    git("commit", "-q", "-m", "org and sandbox only")
    return repo, profile


def test_against_a_revision_without_the_profile_shows_a_new_team_as_all_added(
    tmp_path: Path,
) -> None:
    _, profile = _git_repo(tmp_path)
    result = runner.invoke(app, ["diff", str(profile), "--against", "HEAD", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["added"] == sum(r.custom for r in example("fraud").graph)
    assert data["summary"]["removed"] == data["summary"]["changed"] == 0
    text = runner.invoke(app, ["diff", str(profile), "--against", "HEAD", "--fail-on-data-loss"])
    assert text.exit_code == 0 and "@HEAD (not there)" in text.stdout


def test_against_a_revision_a_deleted_team_is_all_removed_and_fails_the_gate(
    tmp_path: Path,
) -> None:
    repo, profile = _git_repo(tmp_path)
    subprocess.run(["git", "add", "fraud.yaml"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "fraud"],
        cwd=repo,
        check=True,
    )
    profile.unlink()
    result = runner.invoke(app, ["diff", str(profile), "--against", "HEAD", "--fail-on-data-loss"])
    assert result.exit_code == 1, result.output
    assert "(deleted)" in result.stdout and "0 to add" in result.stdout


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
