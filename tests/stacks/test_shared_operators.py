"""`target.operators: shared`: teams on one existing cluster use the platform team's operators.

Each team stack then creates only the team's own objects: no operator namespace, no operator
release, nothing cluster-scoped that a second team would create again."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from dsenv.errors import ProfileError
from dsenv.offline.capture import capture_spec
from dsenv.offline.check import check, load_schemas
from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.profile.load import load_team
from dsenv.spec import versions
from dsenv.spec.expand import expand_profile
from dsenv.spec.model import EnvironmentSpec

#: The operator charts: each brings CRDs, cluster roles and webhooks, the objects that clash
#: when two teams install the same operator on one cluster.
OPERATOR_CHARTS = {
    c.name
    for c in (
        versions.SPARK_OPERATOR,
        versions.STRIMZI,
        versions.CERT_MANAGER,
        versions.KSERVE_CRD,
        versions.KSERVE,
        versions.ARC_CONTROLLER,
    )
}
#: Core kinds that have no namespace.
CLUSTER_SCOPED_KINDS = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
}
TEAM_CUSTOM_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "InferenceService"}
#: Where this cluster's platform team runs its operators (not dsenv's defaults, so the test
#: proves the profile's names are the ones used).
PLATFORM = {"strimzi": "platform-kafka", "spark": "platform-spark", "kserve": "platform-kserve"}
PLATFORM_ARC = "platform-arc"

TEAM = """\
apiVersion: dsenv/v1
kind: Team
name: {name}
target:
  provider: kubernetes
  context: kind-dsenv
  operators: {operators}
  operator_namespaces: {{strimzi: platform-kafka, spark: platform-spark, kserve: platform-kserve, arc: platform-arc}}
tiers:
  small: {{cpu: 2, memory: 8Gi, max_pods: 4}}
workspaces:
  host: hub.{name}.acme.example
  auth: {{provider: github, organization: acme, client_id: Iv1.{name}, client_secret: hub-oauth}}
spark: {{engine: operator, driver_tier: small, executor_tier: small, max_executors: 4}}
kafka:
  engine: strimzi
  brokers: 3
  storage: 20Gi
  topics: [{{name: events, partitions: 3, retention: 1d}}]
  users: [{{name: reader, topics: [events]}}]
ci_runners: {{provider: github, organization: acme, repositories: [acme/{name}-models], tier: small}}
serving:
  engine: kserve
  tier: small
  models:
    - {{name: scorer, framework: sklearn, storage_uri: "pvc://acme-models/scorer/1"}}
"""


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("teams")

    @functools.cache
    def build(name: str, operators: str) -> tuple[EnvironmentSpec, ResourceGraph]:
        path = folder / f"{name}-{operators}.yaml"
        path.write_text(TEAM.format(name=name, operators=operators), encoding="utf-8")
        spec = expand_profile(load_team(path))
        return spec, capture_spec(spec)

    return build


def _charts(graph: ResourceGraph, kit: Any) -> set[str]:
    return {kit.chart_name(r) for r in graph.of_type("kubernetes:helm.sh/v3:Release")}


def _namespaces(graph: ResourceGraph, kit: Any) -> set[str]:
    return {o["metadata"]["name"] for o in kit.core_objects(graph) if o["kind"] == "Namespace"}


def test_shared_operators_install_no_operator_release_or_namespace(team: Any, kit: Any) -> None:
    spec, graph = team("fraud", "shared")
    assert _charts(graph, kit) & OPERATOR_CHARTS == set()
    assert _charts(graph, kit) == {"jupyterhub", "gha-runner-scale-set"}
    assert _namespaces(graph, kit) == {spec.namespace.name, spec.runners.namespace}


def test_install_operators_still_install_every_operator_per_team(team: Any, kit: Any) -> None:
    spec, graph = team("fraud", "install")
    assert _charts(graph, kit) >= OPERATOR_CHARTS
    ns = spec.namespace.name
    assert {f"{ns}-strimzi", f"{ns}-spark-operator", f"{ns}-kserve", f"{ns}-arc-system"} <= (
        _namespaces(graph, kit)
    )


def _team_objects(graph: ResourceGraph, kit: Any) -> set[tuple[str, str, str]]:
    return {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
        for o in kit.core_objects(graph) + kit.custom_resources(graph)
        if o["kind"] != "Namespace"
    }


def test_shared_operators_keep_every_team_object(team: Any, kit: Any) -> None:
    _, shared = team("fraud", "shared")
    spec, installed = team("fraud", "install")
    kinds = {o["kind"] for o in kit.custom_resources(shared)}
    assert kinds == TEAM_CUSTOM_KINDS
    # the same team objects either way: only the operators differ
    assert _team_objects(shared, kit) == _team_objects(installed, kit)
    releases = {r.inputs["name"] for r in kit.scale_set_releases(shared)}
    assert releases == {s.name for s in spec.runners.scale_sets}


def test_shared_team_custom_resources_validate_against_the_upstream_crds(
    team: Any, kit: Any, upstream: Path
) -> None:
    from dsenv.stacks.components import runners, spark

    spec, graph = team("fraud", "shared")
    resources = kit.custom_resources(graph)
    for obj in kit.core_objects(graph):
        if obj["kind"] == "ConfigMap" and spark.TEMPLATE_KEY in obj.get("data", {}):
            resources.append(yaml.safe_load(obj["data"][spark.TEMPLATE_KEY]))
    for release in kit.scale_set_releases(graph):
        values = release.inputs["values"]
        (scale_set,) = spec.runners.scale_sets
        resources.append(
            runners.autoscaling_runner_set(
                spec.runners, scale_set, values["template"]["spec"]["containers"][0]["image"]
            )
        )
    assert {o["kind"] for o in resources} == TEAM_CUSTOM_KINDS | {
        "SparkApplication",
        "AutoscalingRunnerSet",
    }
    for obj in resources:
        schema = kit.served_schema(upstream / kit.crd_files[obj["kind"]])
        errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(obj)]
        assert errors == [], obj["kind"]


def test_dsenv_check_passes_a_shared_operators_team(team: Any, kit: Any, upstream: Path) -> None:
    spec, graph = team("fraud", "shared")
    report = check(
        graph, kubernetes_version=spec.kubernetes_version, schemas=load_schemas(upstream)
    )
    assert [f"{f.rule} {f.name} {f.path}: {f.message}" for f in report.findings] == []
    assert report.validated["crd"] == len(kit.custom_resources(graph))


def _allowed_operator_namespaces(graph: ResourceGraph, kit: Any) -> list[str]:
    (policy,) = (
        o
        for o in kit.core_objects(graph)
        if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "allow-from-operators"
    )
    (rule,) = policy["spec"]["ingress"]
    (peer,) = rule["from"]
    (expression,) = peer["namespaceSelector"]["matchExpressions"]
    assert expression["key"] == "kubernetes.io/metadata.name"
    assert expression["operator"] == "In"
    values: list[str] = expression["values"]
    return values


def test_network_policy_allows_exactly_the_shared_operator_namespaces(team: Any, kit: Any) -> None:
    _, shared = team("fraud", "shared")
    assert sorted(_allowed_operator_namespaces(shared, kit)) == sorted(PLATFORM.values())
    spec, installed = team("fraud", "install")
    ns = spec.namespace.name
    assert sorted(_allowed_operator_namespaces(installed, kit)) == sorted(
        [f"{ns}-strimzi", f"{ns}-spark-operator", f"{ns}-kserve"]
    )


def test_scale_sets_bind_the_shared_controller_service_account(
    team: Any, kit: Any, upstream: Path
) -> None:
    # the key the scale-set chart documents for a controller it cannot find by itself
    documented = (upstream / "actions-runner-controller" / "values.yaml").read_text()
    assert "# controllerServiceAccount:\n#   namespace:" in documented
    _, shared = team("fraud", "shared")
    (release,) = kit.scale_set_releases(shared)
    assert release.inputs["values"]["controllerServiceAccount"] == {
        "namespace": PLATFORM_ARC,
        "name": "arc-gha-rs-controller",
    }
    spec, installed = team("fraud", "install")
    (release,) = kit.scale_set_releases(installed)
    assert release.inputs["values"]["controllerServiceAccount"] == {
        "namespace": spec.runners.controller_namespace,
        "name": "arc-controller",
    }


def _depends_on_a_release(resource: Resource, graph: ResourceGraph) -> bool:
    by_urn = graph.by_urn()
    return any(
        by_urn[urn].type == "kubernetes:helm.sh/v3:Release"
        for urn in resource.dependencies
        if urn in by_urn
    )


def test_team_custom_resources_wait_for_an_operator_release_only_when_installed(
    team: Any, kit: Any
) -> None:
    for operators, waits in (("shared", False), ("install", True)):
        _, graph = team("fraud", operators)
        crs = [r for r in graph if r.custom and kit.manifest(r).get("kind") in TEAM_CUSTOM_KINDS]
        assert crs
        assert {_depends_on_a_release(r, graph) for r in crs} == {waits}, operators


def _cluster_scoped(graph: ResourceGraph, kit: Any) -> set[tuple[str, str]]:
    """Cluster-scoped objects by kind and name; an operator release stands for the CRDs,
    cluster roles and webhooks its chart installs under fixed names."""
    objects = {
        (o["kind"], o["metadata"]["name"])
        for o in kit.core_objects(graph) + kit.custom_resources(graph)
        if o["kind"] in CLUSTER_SCOPED_KINDS or "namespace" not in o["metadata"]
    }
    charts = {("operator chart", c) for c in _charts(graph, kit) & OPERATOR_CHARTS}
    return objects | charts


def test_two_shared_teams_create_no_cluster_scoped_object_with_the_same_name(
    team: Any, kit: Any
) -> None:
    spec, fraud = team("fraud", "shared")
    _, vision = team("vision", "shared")
    assert ("Namespace", spec.namespace.name) in _cluster_scoped(fraud, kit)
    assert _cluster_scoped(fraud, kit) & _cluster_scoped(vision, kit) == set()
    # with per-team operators the same two teams clash on every operator's cluster objects
    _, fraud_installed = team("fraud", "install")
    _, vision_installed = team("vision", "install")
    clash = _cluster_scoped(fraud_installed, kit) & _cluster_scoped(vision_installed, kit)
    assert {name for _, name in clash} == OPERATOR_CHARTS


def test_an_unknown_operators_value_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(
        TEAM.format(name="fraud", operators="shard"),
        encoding="utf-8",
    )
    with pytest.raises(ProfileError) as info:
        load_team(path)
    (problem,) = info.value.problems
    assert (problem.position.line, problem.position.col) == (7, 14)
    assert "target.operators" in str(problem)
    assert "did you mean 'shared'?" in problem.message


def test_shared_operators_on_target_aws_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    text = (
        TEAM.format(name="fraud", operators="shared")
        .replace(
            "provider: kubernetes\n  context: kind-dsenv", "provider: aws\n  region: eu-west-1"
        )
        .replace("max_pods: 4", "instance_types: [m7i.large]")
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_team(path)
    (problem,) = info.value.problems
    assert "target.operators" in str(problem)
    assert "needs target kubernetes" in problem.message


def test_teams_inherit_shared_operators_from_their_org(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(
        "apiVersion: dsenv/v1\nkind: Org\nname: acme\n"
        "target: {provider: kubernetes, context: shared-cluster, operators: shared,"
        " operator_namespaces: {strimzi: kafka-system}}\n",
        encoding="utf-8",
    )
    team = tmp_path / "team.yaml"
    team.write_text(
        "apiVersion: dsenv/v1\nkind: Team\nname: t\nextends: org.yaml\n"
        "tiers: {small: {cpu: 2, memory: 8Gi}}\n"
        "kafka: {engine: strimzi}\nspark: {driver_tier: small, executor_tier: small}\n",
        encoding="utf-8",
    )
    spec = expand_profile(load_team(team))
    assert spec.kafka is not None and spec.spark is not None
    assert not spec.kafka.install_operator and not spec.spark.install_operator
    assert spec.kafka.operator_namespace == "kafka-system"
    assert spec.spark.operator_namespace == "spark-operator"  # the default shared namespace
