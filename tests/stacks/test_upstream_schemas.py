"""What dsenv writes against the upstream ground truth: core objects against the Kubernetes
schemas (strict, the profile's version), custom resources against the served version of the
upstream CRDs, and chart values against the charts' own defaults and schema."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate
import pytest
import yaml

from dsenv.stacks.components import kafka, runners, spark

PROFILE_NAMES = sorted(
    p.stem for p in (Path(__file__).resolve().parents[2] / "profiles").glob("*.yaml")
)


def _errors(schema: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(obj)
    ]


def _schema(kit: Any, upstream: Path, kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = kit.served_schema(upstream / kit.crd_files[kind])
    return schema


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_core_objects_pass_strict_kubernetes_validation(kit: Any, profile: str) -> None:
    spec = kit.spec_for(profile)
    objects = kit.core_objects(kit.in_cluster_graph(profile))
    kinds = {o["kind"] for o in objects}
    assert {"Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "ServiceAccount"} <= kinds
    for obj in objects:
        kubernetes_validate.validate(obj, spec.kubernetes_version, strict=True)


def test_strict_kubernetes_validation_rejects_a_misspelt_field(kit: Any) -> None:
    quota = next(
        o for o in kit.core_objects(kit.in_cluster_graph("sandbox")) if o["kind"] == "ResourceQuota"
    )
    broken = copy.deepcopy(quota)
    broken["spec"]["hardd"] = broken["spec"].pop("hard")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.33", strict=True)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_custom_resources_validate_against_the_served_upstream_crds(
    kit: Any, upstream: Path, profile: str
) -> None:
    graph = kit.in_cluster_graph(profile)
    resources = kit.custom_resources(graph)
    # the SparkApplication template travels in a ConfigMap; the runner scale sets as chart
    # values, checked as the AutoscalingRunnerSet the chart renders from them
    for obj in kit.core_objects(graph):
        if obj["kind"] == "ConfigMap" and spark.TEMPLATE_KEY in obj.get("data", {}):
            resources.append(yaml.safe_load(obj["data"][spark.TEMPLATE_KEY]))
    spec = kit.spec_for(profile)
    for release in kit.scale_set_releases(graph):
        values = release.inputs["values"]
        scale_set = next(
            s for s in spec.runners.scale_sets if s.name == values["runnerScaleSetName"]
        )
        image = values["template"]["spec"]["containers"][0]["image"]
        rendered = runners.autoscaling_runner_set(spec.runners, scale_set, image)
        assert rendered["spec"]["template"] == values["template"]
        resources.append(rendered)
    for obj in resources:
        assert obj["apiVersion"].endswith(("/v1", "/v1beta1", "/v1beta2", "/v1alpha1"))
        assert _errors(_schema(kit, upstream, obj["kind"]), obj) == [], obj["kind"]
        kubernetes_validate.validate(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj["metadata"]},
            spec.kubernetes_version,
            strict=True,
        )
    kinds = {o["kind"] for o in resources}
    if profile == "fraud":
        assert kinds == {
            "Kafka",
            "KafkaNodePool",
            "KafkaTopic",
            "KafkaUser",
            "InferenceService",
            "SparkApplication",
            "AutoscalingRunnerSet",
            "ScheduledSparkApplication",
            "WorkflowTemplate",
            "CronWorkflow",
        }


def test_crd_schema_rejects_what_kafka_v1_dropped(kit: Any, upstream: Path) -> None:
    """The check has teeth: v1 Kafka has no ZooKeeper, and ACLs take `operations` lists."""
    spec = kit.spec_for("fraud")
    cluster = kafka.kafka_resource(spec.kafka)
    cluster["spec"]["zookeeper"] = {"replicas": 3, "storage": {"type": "ephemeral"}}
    assert _errors(_schema(kit, upstream, "Kafka"), cluster)
    user = kafka.user_resources(spec.kafka)[0]
    acl = user["spec"]["authorization"]["acls"][0]
    acl["operation"] = acl.pop("operations")[0]
    assert _errors(_schema(kit, upstream, "KafkaUser"), user)


def _hub_schema(upstream: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    root = upstream / "zero-to-jupyterhub"
    with (root / "values.yaml").open() as fh:
        defaults = yaml.safe_load(fh)
    with (root / "values.schema.yaml").open() as fh:
        schema = yaml.safe_load(fh)
    return defaults, schema


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_hub_values_merged_with_chart_defaults_validate_against_the_chart_schema(
    kit: Any, upstream: Path, profile: str
) -> None:
    defaults, schema = _hub_schema(upstream)
    values = kit.releases(kit.in_cluster_graph(profile))["jupyterhub"].inputs["values"]
    merged = kit.deep_merge(defaults, values)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(merged)
    ]
    assert errors == []


def test_hub_values_schema_rejects_an_unknown_key(kit: Any, upstream: Path) -> None:
    defaults, schema = _hub_schema(upstream)
    values = copy.deepcopy(
        kit.releases(kit.in_cluster_graph("sandbox"))["jupyterhub"].inputs["values"]
    )
    values["singleuser"]["storage"]["size"] = values["singleuser"]["storage"].pop("capacity")
    assert not jsonschema.Draft7Validator(schema).is_valid(kit.deep_merge(defaults, values))


def _paths(values: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    if not isinstance(values, dict) or not values:
        return {prefix}
    return {p for k, v in values.items() for p in _paths(v, (*prefix, k))}


def _has_path(tree: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return False
        tree = tree[key]
    return True


@pytest.mark.parametrize(
    ("chart", "folder", "free_form"),
    [
        # security contexts are free-form maps in the charts: the key must exist, not its fields
        (
            "spark-operator",
            "spark-operator",
            ("podSecurityContext", "securityContext", "serviceAccount"),
        ),
        (
            "strimzi-kafka-operator",
            "strimzi",
            ("podSecurityContext", "securityContext", "extraEnvs"),
        ),
    ],
)
def test_operator_values_use_keys_the_upstream_chart_defines(
    kit: Any, upstream: Path, chart: str, folder: str, free_form: tuple[str, ...]
) -> None:
    with (upstream / folder / "values.yaml").open() as fh:
        defaults = yaml.safe_load(fh)
    values = kit.releases(kit.in_cluster_graph("fraud"))[chart].inputs["values"]
    for path in _paths(values):
        cut = next((i for i, key in enumerate(path) if key in free_form), len(path) - 1)
        assert _has_path(defaults, path[: cut + 1]), ".".join(path)
