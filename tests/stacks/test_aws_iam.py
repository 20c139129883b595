"""IAM: IRSA trust conditions are exact, workload policies are least privilege, and every
identity policy dsenv writes passes the parliament linter."""

from __future__ import annotations

import json
from typing import Any

import pytest
from testkit import graph_of, spec_of

from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.spec.aws import WorkloadRole
from dsenv.stacks.components import identity

AWS_PROFILES = ("fraud", "vision")


def _roles(profile: str) -> tuple[WorkloadRole, ...]:
    aws = spec_of(profile).aws
    assert aws is not None
    return aws.identity.roles


def role_named(graph: ResourceGraph, name: str) -> Resource:
    return next(r for r in graph.of_type("aws:iam/role:Role") if r.inputs.get("name") == name)


def inline_policies(graph: ResourceGraph, role: Resource) -> list[dict[str, Any]]:
    return [
        json.loads(p.inputs["policy"])
        for p in graph.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.inputs["name"]
    ]


def actions_on(policy: dict[str, Any], resource_prefix: str) -> set[str]:
    found: set[str] = set()
    for stmt in policy["Statement"]:
        resources = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        if any(r.startswith(resource_prefix) for r in resources):
            found.update(actions)
    return found


@pytest.mark.parametrize("profile", AWS_PROFILES)
def test_each_workload_role_trusts_exactly_its_service_account_and_the_sts_audience(
    profile: str,
) -> None:
    spec = spec_of(profile)
    graph = graph_of(profile)
    oidc = next(iter(graph.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")))
    issuer_host = oidc.inputs["url"].removeprefix("https://")
    assert spec.aws is not None
    workloads = spec.aws.identity.roles
    assert workloads, "the example profiles run workloads that need AWS access"
    for w in workloads:
        assert w.role_name == f"{spec.aws.cluster.name}-{w.purpose}"
        role = role_named(graph, w.role_name)
        (stmt,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert stmt["Principal"]["Federated"].endswith(f":oidc-provider/{issuer_host}")
        assert stmt["Condition"] == {
            "StringEquals": {
                f"{issuer_host}:sub": f"system:serviceaccount:{w.namespace}:{w.service_account}",
                f"{issuer_host}:aud": "sts.amazonaws.com",
            }
        }


def test_roles_exist_only_for_the_workloads_in_the_profile() -> None:
    fraud = {w.purpose for w in _roles("fraud")}
    vision = {w.purpose for w in _roles("vision")}
    assert fraud == {"workspaces", "spark", "serving", "runners", "pipelines"}
    # vision runs Spark on EMR Serverless (its own execution role) and has no CI runners
    assert vision == {"workspaces", "serving"}
    names = {r.inputs.get("name") for r in graph_of("vision").of_type("aws:iam/role:Role")}
    assert "acme-vision-runners" not in names and "acme-vision-spark" not in names


def test_workload_policies_grant_what_each_workload_needs_and_no_more() -> None:
    graph = graph_of("fraud")
    data = next(
        b
        for b in graph.of_type("aws:s3/bucket:Bucket")
        if b.inputs["bucket"].startswith("acme-fraud-data")
    )
    artifacts = next(
        b
        for b in graph.of_type("aws:s3/bucket:Bucket")
        if b.inputs["bucket"].startswith("acme-fraud-artifacts")
    )
    data_arn = f"arn:aws:s3:::{data.inputs['bucket']}"
    artifacts_arn = f"arn:aws:s3:::{artifacts.inputs['bucket']}"
    policies = {
        w: inline_policies(graph, role_named(graph, f"acme-fraud-{w}"))[0]
        for w in ("workspaces", "spark", "serving", "runners")
    }
    writes = {"s3:PutObject", "s3:DeleteObject"}
    assert writes <= actions_on(policies["workspaces"], data_arn)
    assert writes <= actions_on(policies["workspaces"], artifacts_arn)
    assert writes <= actions_on(policies["spark"], data_arn)
    assert not writes & actions_on(policies["spark"], artifacts_arn)
    assert "s3:GetObject" in actions_on(policies["spark"], artifacts_arn)
    assert not actions_on(policies["serving"], data_arn)
    assert not writes & actions_on(policies["serving"], "arn:aws:s3:::")
    # nothing on a runner pod (restricted, no container engine) can build or push an image
    assert not actions_on(policies["runners"], "arn:aws:ecr:")
    assert writes <= actions_on(policies["runners"], artifacts_arn)
    for name, policy in policies.items():
        for stmt in policy["Statement"]:
            assert stmt["Effect"] == "Allow"
            assert "*" not in (
                stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            ), name
            assert stmt["Resource"] != "*", name


def test_serving_may_read_exactly_the_model_prefixes_the_profile_names() -> None:
    policy = json.loads(
        identity.serving_policy("arn:aws:s3:::arts", ["s3://models/fraud/1", "hf://acme/x"])
    )
    reads = [s for s in policy["Statement"] if s["Action"] == "s3:GetObject"]
    assert [s["Resource"] for s in reads] == ["arn:aws:s3:::models/fraud/1/*"]
    lists = [s for s in policy["Statement"] if s["Action"] == "s3:ListBucket"]
    assert lists[0]["Condition"] == {"StringLike": {"s3:prefix": ["fraud/1", "fraud/1/*"]}}


def test_irsa_roles_name_the_service_accounts_the_in_cluster_components_create() -> None:
    graph = graph_of("fraud")
    accounts = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r
        for r in graph.of_type("kubernetes:core/v1:ServiceAccount")
    }
    for w in _roles("fraud"):
        sa = accounts[(w.namespace, w.service_account)]
        role_arn = sa.inputs["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert role_arn.endswith(f":role/acme-fraud-{w.purpose}"), w


@pytest.mark.parametrize("profile", AWS_PROFILES)
def test_every_identity_policy_passes_parliament(profile: str) -> None:
    parliament = pytest.importorskip(
        "parliament", reason="parliament (IAM linter) is not installed"
    )
    graph = graph_of(profile)
    docs = [r.inputs["policy"] for r in graph.of_type("aws:iam/rolePolicy:RolePolicy")]
    docs += [r.inputs["policy"] for r in graph.of_type("aws:s3/bucketPolicy:BucketPolicy")]
    assert len(docs) >= 5
    for doc in docs:
        findings = parliament.analyze_policy_string(doc).findings
        assert findings == [], [(f.issue, f.detail) for f in findings]


def test_kafka_client_policy_passes_parliament_and_is_scoped_to_the_team_cluster() -> None:
    parliament = pytest.importorskip(
        "parliament", reason="parliament (IAM linter) is not installed"
    )
    doc = identity.kafka_client_policy("eu-west-1", "123456789012", "acme-fraud-kafka")
    assert parliament.analyze_policy_string(doc).findings == []
    for stmt in json.loads(doc)["Statement"]:
        assert "/acme-fraud-kafka/" in stmt["Resource"]
