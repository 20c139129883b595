"""Every physical name is decided once and holds: unique within its kind, within its
service's limit, and every name a policy, binding or reference mentions is the name of
something the program creates.

The teams here have an org and names near the limits, and use every capability with each
engine (MSK and EMR included), so a name derived twice, or cut to fit, shows up as a
dangling reference or a collision in the captured graph.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsenv.errors import ProfileError
from dsenv.offline.capture import capture_spec
from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.profile.load import load_team
from dsenv.spec import names as limits
from dsenv.spec.expand import expand_profile
from dsenv.spec.model import EnvironmentSpec

ORG = "northwind-analytics"  # 19 characters
TEAM = "churn-forecasting-lab"  # 21: the prefix is 41, the EMR virtual cluster name 63

ORG_PROFILE = f"""\
apiVersion: dsenv/v1
kind: Org
name: {ORG}
target: {{provider: aws, region: eu-west-1, kubernetes_version: "1.33"}}
tags: {{cost-center: data}}
"""

TEAM_PROFILE = """\
apiVersion: dsenv/v1
kind: Team
name: {team}
extends: org.yaml
owners: [ana@northwind.example]
tiers:
  cpu: {{cpu: 2, memory: 8Gi, instance_types: [m7i.xlarge], min_nodes: 1, max_nodes: 4}}
  gpu: {{cpu: 7, memory: 28Gi, gpus: 1, instance_types: [g5.2xlarge], max_nodes: 2}}
groups:
  scientists: {{members: [ana], tiers: [cpu, gpu]}}
workspaces: {{host: hub.churn.northwind.example, dns_zone: northwind.example}}
spark: {{engine: {spark}, driver_tier: cpu, executor_tier: cpu}}
kafka:
  engine: {kafka}
  brokers: 2
{kafka_objects}ci_runners: {{provider: github, organization: northwind, repositories: [northwind/churn-models], tier: cpu}}
serving:
  tier: cpu
  models:
    - {{name: churn, framework: sklearn, storage_uri: "s3://{org}-{team}-artifacts/models/churn/1"}}
pipelines:
  time_zone: UTC
  submitters: [scientists]
  jobs: [{{name: retrain-the-churn-model-every-single-night-at-two, command: [python], tier: cpu, schedule: "0 2 * * *"}}]
  workflows:
    - name: build-the-features-for-the-churn-model-every-nigh
      schedule: "@daily"
      steps: [{{name: extract, command: [python], tier: cpu}}]
"""

KAFKA_OBJECTS = """\
  topics: [{name: events}, {name: scores.v1}]
  users: [{name: scorer, topics: [events]}]
"""
ENGINES = [("emr-on-eks", "msk"), ("emr-serverless", "msk-serverless"), ("operator", "strimzi")]


def _team(tmp_path: Path, spark: str, kafka: str, team: str = TEAM) -> EnvironmentSpec:
    (tmp_path / "org.yaml").write_text(ORG_PROFILE, encoding="utf-8")
    path = tmp_path / "team.yaml"
    path.write_text(
        TEAM_PROFILE.format(
            team=team,
            spark=spark,
            kafka=kafka,
            org=ORG,
            # topics and users are Strimzi's only: MSK refuses them at validate
            kafka_objects=KAFKA_OBJECTS if kafka == "strimzi" else "",
        ),
        encoding="utf-8",
    )
    return expand_profile(load_team(path))


# ---- the physical names in the captured graph -------------------------------------------

#: type token -> (input holding the physical name, the service's limit)
AWS_NAMES = {
    "aws:iam/role:Role": ("name", limits.IAM_ROLE),
    "aws:eks/cluster:Cluster": ("name", limits.EKS_CLUSTER),
    "aws:eks/nodeGroup:NodeGroup": ("nodeGroupName", limits.EKS_NODE_GROUP),
    "aws:s3/bucket:Bucket": ("bucket", limits.S3_BUCKET),
    "aws:ecr/repository:Repository": ("name", limits.ECR_REPOSITORY),
    "aws:msk/cluster:Cluster": ("clusterName", limits.MSK_CLUSTER),
    "aws:msk/serverlessCluster:ServerlessCluster": ("clusterName", limits.MSK_CLUSTER),
    "aws:emrcontainers/virtualCluster:VirtualCluster": ("name", limits.EMR_NAME),
    "aws:emrserverless/application:Application": ("name", limits.EMR_NAME),
    "aws:kms/alias:Alias": ("name", limits.KMS_ALIAS),
    "aws:cloudwatch/logGroup:LogGroup": ("name", limits.LOG_GROUP),
    "aws:scheduler/schedule:Schedule": ("name", limits.SCHEDULE_NAME),
}
#: Kinds whose controllers derive longer names from theirs (a Job per run, a Workflow per run).
CRON_KINDS = ("CronJob", "CronWorkflow")
#: Kubernetes kinds whose names are DNS labels (the rest are DNS subdomains).
LABEL_KINDS = ("Namespace", "Service")


def _k8s_object(r: Resource) -> bool:
    return r.custom and r.type.startswith("kubernetes:") and "helm.sh" not in r.type


def physical_names(graph: ResourceGraph) -> Iterator[tuple[tuple[str, ...], str, int]]:
    """(kind and scope, name, limit) of every resource the program names itself."""
    for r in graph:
        if r.type in AWS_NAMES:
            key, limit = AWS_NAMES[r.type]
            if r.inputs.get(key):
                yield (r.type,), str(r.inputs[key]), limit
        elif r.type == "kubernetes:helm.sh/v3:Release":
            yield (r.type, str(r.inputs["namespace"])), str(r.inputs["name"]), limits.HELM_RELEASE
        elif _k8s_object(r) and isinstance(r.inputs.get("metadata"), dict):
            meta, kind = r.inputs["metadata"], str(r.inputs.get("kind"))
            limit = limits.DNS_LABEL if kind in LABEL_KINDS else limits.DNS_SUBDOMAIN
            limit = limits.CRON_NAME if kind in CRON_KINDS else limit
            yield (r.type, str(meta.get("namespace", ""))), str(meta["name"]), limit
            for key, value in (meta.get("labels") or {}).items():
                yield ("label value", key, str(meta["name"])), str(value), limits.DNS_LABEL


@pytest.mark.parametrize(("spark", "kafka"), ENGINES)
def test_every_physical_name_is_unique_in_its_kind_and_within_its_limit(
    tmp_path: Path, spark: str, kafka: str
) -> None:
    graph = capture_spec(_team(tmp_path, spark, kafka))
    seen: dict[tuple[tuple[str, ...], str], int] = {}
    for scope, name, limit in physical_names(graph):
        assert len(name) <= limit, f"{scope[0]} {name!r}: {len(name)} > {limit}"
        if scope[0] != "label value":
            seen[(scope, name)] = seen.get((scope, name), 0) + 1
    assert [k for k, n in seen.items() if n > 1] == []
    # the names come near their limits, so a derivation that cut them would show
    assert max(len(n) for s, n, _ in physical_names(graph) if s[0] in AWS_NAMES) >= 60


# ---- every reference resolves -------------------------------------------------------------


class Inventory:
    """What the program creates, by name, to resolve references against."""

    def __init__(self, graph: ResourceGraph) -> None:
        self.graph = graph

        def named(token: str, key: str) -> set[str]:
            return {str(r.inputs[key]) for r in graph.of_type(token) if r.inputs.get(key)}

        self.buckets = named("aws:s3/bucket:Bucket", "bucket")
        self.repositories = named("aws:ecr/repository:Repository", "name")
        self.msk = named("aws:msk/cluster:Cluster", "clusterName") | named(
            "aws:msk/serverlessCluster:ServerlessCluster", "clusterName"
        )
        self.clusters = named("aws:eks/cluster:Cluster", "name")
        self.log_groups = named("aws:cloudwatch/logGroup:LogGroup", "name")
        self.roles = named("aws:iam/role:Role", "name")
        # roles without a name get the engine's auto-name: their logical name and a suffix
        self.auto_named_roles = [
            r.name for r in graph.of_type("aws:iam/role:Role") if not r.inputs.get("name")
        ]
        self.oidc_arns = {
            f"arn:aws:iam::123456789012:oidc-provider/{str(r.inputs['url']).removeprefix('https://')}"
            for r in graph.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        }
        self.objects: dict[tuple[str, str, str], Resource] = {}
        for r in graph:
            if _k8s_object(r) and isinstance(r.inputs.get("metadata"), dict):
                meta = r.inputs["metadata"]
                key = (str(r.inputs["kind"]), str(meta.get("namespace", "")), str(meta["name"]))
                self.objects[key] = r
        self.namespaces = {name for kind, _, name in self.objects if kind == "Namespace"}
        self.service_accounts = {(ns, n) for k, ns, n in self.objects if k == "ServiceAccount"}
        # service accounts that an add-on or chart creates from what dsenv configures
        addons = {str(r.inputs.get("addonName")) for r in graph.of_type("aws:eks/addon:Addon")}
        if "aws-ebs-csi-driver" in addons:
            self.service_accounts.add(("kube-system", "ebs-csi-controller-sa"))
        for release in graph.of_type("kubernetes:helm.sh/v3:Release"):
            values, ns = release.inputs.get("values") or {}, str(release.inputs["namespace"])
            for sa in (
                values.get("serviceAccount"),
                (values.get("rbac") or {}).get("serviceAccount"),
                (values.get("controller") or {}).get("serviceAccount"),  # Argo Workflows
            ):
                if isinstance(sa, dict) and sa.get("create") and sa.get("name"):
                    self.service_accounts.add((ns, str(sa["name"])))
        # the profile's groups, as the hub loads them: what a Group subject must name
        self.groups = {
            str(g)
            for release in graph.of_type("kubernetes:helm.sh/v3:Release")
            for g in (((release.inputs.get("values") or {}).get("hub") or {}).get("config", {}))
            .get("JupyterHub", {})
            .get("load_groups", {})
        }
        self.access_users = {
            str(r.inputs["userName"])
            for r in graph.of_type("aws:eks/accessEntry:AccessEntry")
            if r.inputs.get("userName")
        }

    def role(self, name: str) -> bool:
        return name in self.roles or any(name.startswith(f"{n}-") for n in self.auto_named_roles)


def _statements(document: str) -> list[dict[str, Any]]:
    statements = json.loads(document)["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def dangling(graph: ResourceGraph) -> list[str]:
    """Every reference in the graph that names nothing the program creates."""
    inv, out = Inventory(graph), []

    def need(ok: bool, what: str) -> None:
        if not ok:
            out.append(what)

    for policy in graph.of_type("aws:iam/rolePolicy:RolePolicy"):
        need(inv.role(str(policy.inputs["role"])), f"{policy.name}: role {policy.inputs['role']}")
        for stmt in _statements(policy.inputs["policy"]):
            for arn in _as_list(stmt["Resource"]):
                kind, _, rest = (
                    str(arn).partition(":::") if arn.startswith("arn:aws:s3") else ("", "", "")
                )
                if kind:
                    need(rest.split("/", 1)[0] in inv.buckets, f"{policy.name}: {arn}")
                elif ":repository/" in arn:
                    need(
                        arn.split(":repository/", 1)[1] in inv.repositories, f"{policy.name}: {arn}"
                    )
                elif arn.startswith("arn:aws:kafka:"):
                    need(arn.split(":", 5)[5].split("/")[1] in inv.msk, f"{policy.name}: {arn}")
                elif ":nodegroup/" in arn:
                    need(arn.split(":nodegroup/", 1)[1].split("/")[0] in inv.clusters, arn)
                elif ":log-group:" in arn:
                    need(arn.split(":log-group:", 1)[1].split(":")[0] in inv.log_groups, arn)
    for attachment in graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        need(inv.role(str(attachment.inputs["role"])), f"{attachment.name}: role")
    for role in graph.of_type("aws:iam/role:Role"):
        for stmt in _statements(role.inputs["assumeRolePolicy"]):
            federated = stmt["Principal"].get("Federated")
            if federated is None:
                continue
            need(federated in inv.oidc_arns, f"{role.name}: trusts {federated}")
            for test, pairs in stmt["Condition"].items():
                for key, value in pairs.items():
                    if not key.endswith(":sub"):
                        continue
                    _, ns, sa = str(value).split(":", 3)[1:]
                    if test == "StringEquals":
                        need((ns, sa) in inv.service_accounts, f"{role.name}: trusts {ns}/{sa}")
                    need(
                        ns in inv.namespaces or ns == "kube-system", f"{role.name}: namespace {ns}"
                    )
    for (kind, ns, name), r in inv.objects.items():
        if ns:
            need(ns in inv.namespaces, f"{kind} {name}: namespace {ns}")
        meta = r.inputs["metadata"]
        arn = (meta.get("annotations") or {}).get("eks.amazonaws.com/role-arn")
        if arn:
            need(inv.role(arn.rsplit("/", 1)[1]), f"ServiceAccount {ns}/{name}: role {arn}")
        if kind == "RoleBinding":
            role_ref = r.inputs["roleRef"]
            need(("Role", ns, role_ref["name"]) in inv.objects, f"RoleBinding {name}: role")
            for subject in r.inputs["subjects"]:
                if subject["kind"] == "ServiceAccount":
                    key = (subject.get("namespace", ns), subject["name"])
                    need(key in inv.service_accounts, f"RoleBinding {name}: {key}")
                elif subject["kind"] == "Group":
                    need(subject["name"] in inv.groups, f"RoleBinding {name}: {subject}")
                else:
                    need(subject["name"] in inv.access_users, f"RoleBinding {name}: {subject}")
        if kind == "InferenceService":
            sa = r.inputs["spec"]["predictor"]["serviceAccountName"]
            need((ns, sa) in inv.service_accounts, f"InferenceService {name}: {sa}")
        if kind == "NetworkPolicy":
            for rule in r.inputs["spec"].get("ingress", []) + r.inputs["spec"].get("egress", []):
                for peer in rule.get("from", []) + rule.get("to", []):
                    for expr in (peer.get("namespaceSelector") or {}).get("matchExpressions", []):
                        for target in expr["values"]:
                            need(
                                target in inv.namespaces or target == "kube-system",
                                f"NetworkPolicy {ns}/{name}: namespace {target}",
                            )
    for release in graph.of_type("kubernetes:helm.sh/v3:Release"):
        ns, values = str(release.inputs["namespace"]), release.inputs.get("values") or {}
        need(ns in inv.namespaces or ns == "kube-system", f"release {release.name}: namespace")
        single = values.get("singleuser") or {}
        if single.get("serviceAccountName"):
            need((ns, single["serviceAccountName"]) in inv.service_accounts, "hub: user SA")
        pod = ((values.get("template") or {}).get("spec")) or {}
        if pod.get("serviceAccountName"):
            need((ns, pod["serviceAccountName"]) in inv.service_accounts, "runners: SA")
        controller = values.get("controllerServiceAccount")
        if controller:
            key = (controller["namespace"], controller["name"])
            need(key in inv.service_accounts, f"scale set {release.name}: controller {key}")
    for node_group in graph.of_type("aws:eks/nodeGroup:NodeGroup"):
        need(node_group.inputs["clusterName"] in inv.clusters, f"{node_group.name}: cluster")
    for virtual in graph.of_type("aws:emrcontainers/virtualCluster:VirtualCluster"):
        provider = virtual.inputs["containerProvider"]
        need(provider["id"] in inv.clusters, "virtual cluster: EKS cluster")
        need(provider["info"]["eksInfo"]["namespace"] in inv.namespaces, "virtual cluster: ns")
    return out


@pytest.mark.parametrize(("spark", "kafka"), ENGINES)
def test_every_name_a_policy_binding_or_reference_mentions_is_created(
    tmp_path: Path, spark: str, kafka: str
) -> None:
    graph = capture_spec(_team(tmp_path, spark, kafka))
    assert dangling(graph) == []


def test_the_kafka_client_policy_names_the_msk_cluster_the_program_creates(
    tmp_path: Path,
) -> None:
    graph = capture_spec(_team(tmp_path, "emr-on-eks", "msk"))
    (cluster,) = graph.of_type("aws:msk/cluster:Cluster")
    name = cluster.inputs["clusterName"]
    assert name == f"{ORG}-{TEAM}-kafka"
    policies = [p for p in graph.of_type("aws:iam/rolePolicy:RolePolicy") if "kafka" in p.name]
    # workspaces and pipelines (spark runs on EMR, with its own job role)
    assert sorted(p.name for p in policies) == [
        "identity-pipelines-kafka",
        "identity-workspaces-kafka",
    ]
    for policy in policies:
        arns = {a for s in _statements(policy.inputs["policy"]) for a in _as_list(s["Resource"])}
        assert f"arn:aws:kafka:eu-west-1:123456789012:cluster/{name}/*" in arns


def test_the_reference_check_finds_a_broken_reference(tmp_path: Path) -> None:
    """The checker above can fail: a policy naming a bucket nobody creates is caught."""
    graph = capture_spec(_team(tmp_path, "emr-on-eks", "msk"))
    policy = next(iter(graph.of_type("aws:iam/rolePolicy:RolePolicy")))
    broken = {
        **policy.inputs,
        "policy": json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::elsewhere/*",
                    }
                ]
            }
        ),
    }
    graph.resources[graph.resources.index(policy)] = Resource(
        **{**policy.__dict__, "inputs": broken}
    )
    assert dangling(graph) == [f"{policy.name}: arn:aws:s3:::elsewhere/*"]


def test_a_name_one_character_too_long_is_refused_at_the_team_name(tmp_path: Path) -> None:
    """One more character of team name makes the EMR virtual cluster name 65 characters."""
    with pytest.raises(ProfileError) as caught:
        _team(tmp_path, "emr-on-eks", "msk", team=TEAM + "x")
    (problem,) = caught.value.problems
    assert str(problem.position) == f"{tmp_path / 'team.yaml'}:3:7"  # the team's name:
    assert "EMR virtual cluster name" in problem.message
    assert "65 characters; at most 64" in problem.message
