"""Target kubernetes on the captured graph: the tiers' pods land on the cluster admin's nodes,
every image comes from the team's registry, volumes use the named classes, and the referenced
object store reaches every workload.

The on-premise example (profiles/genomics.yaml on org/institute.yaml) has admin-labelled A100
nodes tainted `dedicated=gpu:NoSchedule`; its GPU tier runs workspaces, Spark executors, CI
runners and a predictor.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.offline.run import Offline, offline
from dsenv.profile.types import is_qualified
from dsenv.spec.versions import spark_image

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "profiles"

A100_SELECTOR = {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}
A100_TOLERATION = {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
CPU_SELECTOR = {"node.lab.example/pool": "general"}


@functools.cache
def example(name: str) -> Offline:
    return offline(PROFILES / f"{name}.yaml")


def _release(graph: ResourceGraph, chart: str) -> list[Resource]:
    return [
        r
        for r in graph.of_type("kubernetes:helm.sh/v3:Release")
        if str(r.inputs["chart"]).rsplit("/", 1)[-1] == chart
    ]


def _hub_values(graph: ResourceGraph) -> dict[str, Any]:
    (hub,) = _release(graph, "jupyterhub")
    values: dict[str, Any] = hub.inputs["values"]
    return values


def _spark_application(graph: ResourceGraph) -> dict[str, Any]:
    (configmap,) = [
        r
        for r in graph.of_type("kubernetes:core/v1:ConfigMap")
        if r.inputs["metadata"]["name"] == "spark-application-template"
    ]
    app: dict[str, Any] = yaml.safe_load(configmap.inputs["data"]["sparkapplication.yaml"])
    return app


def _predictors(graph: ResourceGraph) -> dict[str, dict[str, Any]]:
    return {
        r.inputs["metadata"]["name"]: r.inputs["spec"]["predictor"]
        for r in graph.of_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")
    }


def _runner_pods(graph: ResourceGraph) -> list[dict[str, Any]]:
    return [r.inputs["values"]["template"]["spec"] for r in _release(graph, "gha-runner-scale-set")]


def _gpu_tier_pod_templates(graph: ResourceGraph) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, placement) of every pod template of the GPU tier, normalised to
    nodeSelector / tolerations / GPU request as each place writes them."""
    for profile in _hub_values(graph)["singleuser"]["profileList"]:
        if profile["slug"] == "a100":
            o = profile["kubespawner_override"]
            yield (
                "hub profile a100",
                {
                    "nodeSelector": o["node_selector"],
                    "tolerations": o.get("tolerations"),
                    "gpus": o.get("extra_resource_limits", {}).get("nvidia.com/gpu"),
                    "gpu_request": o.get("extra_resource_guarantees", {}).get("nvidia.com/gpu"),
                },
            )
    app = _spark_application(graph)["spec"]
    for role in ("driver", "executor"):
        part = app[role]
        if part["nodeSelector"] == A100_SELECTOR or part.get("tolerations"):
            gpu = part.get("gpu") or {}
            yield (
                f"Spark {role}",
                {
                    "nodeSelector": part["nodeSelector"],
                    "tolerations": part.get("tolerations"),
                    "gpus": str(gpu.get("quantity"))
                    if gpu.get("name") == "nvidia.com/gpu"
                    else None,
                    "gpu_request": str(gpu.get("quantity"))
                    if gpu.get("name") == "nvidia.com/gpu"
                    else None,
                },
            )
    for name, predictor in _predictors(graph).items():
        if predictor["nodeSelector"] == A100_SELECTOR or predictor.get("tolerations"):
            resources = predictor["model"]["resources"]
            yield (
                f"predictor {name}",
                {
                    "nodeSelector": predictor["nodeSelector"],
                    "tolerations": predictor.get("tolerations"),
                    "gpus": resources["limits"].get("nvidia.com/gpu"),
                    "gpu_request": resources["requests"].get("nvidia.com/gpu"),
                },
            )
    for pod in _runner_pods(graph):
        (container,) = pod["containers"]
        yield (
            "CI runner",
            {
                "nodeSelector": pod["nodeSelector"],
                "tolerations": pod.get("tolerations"),
                "gpus": container["resources"]["limits"].get("nvidia.com/gpu"),
                "gpu_request": container["resources"]["requests"].get("nvidia.com/gpu"),
            },
        )


def test_every_pod_template_of_the_gpu_tier_lands_on_the_admins_a100_nodes() -> None:
    """Hub profile, Spark executors, the GPU predictor and the runners: exactly the admins'
    selector and toleration, and one nvidia.com/gpu requested and limited."""
    env = example("genomics")
    found = dict(_gpu_tier_pod_templates(env.graph))
    assert set(found) == {
        "hub profile a100",
        "Spark executor",
        "predictor variant-caller",
        "CI runner",
    }
    for where, placement in found.items():
        assert placement == {
            "nodeSelector": A100_SELECTOR,
            "tolerations": [A100_TOLERATION],
            "gpus": "1",
            "gpu_request": "1",
        }, where


def test_cpu_tier_pods_go_to_the_general_pool_and_tolerate_no_gpu_taint() -> None:
    graph = example("genomics").graph
    values = _hub_values(graph)
    cpu = next(p for p in values["singleuser"]["profileList"] if p["slug"] == "cpu")
    assert cpu["kubespawner_override"]["node_selector"] == CPU_SELECTOR
    assert "tolerations" not in cpu["kubespawner_override"]
    assert values["singleuser"]["nodeSelector"] == CPU_SELECTOR  # the default tier
    driver = _spark_application(graph)["spec"]["driver"]
    assert driver["nodeSelector"] == CPU_SELECTOR and "tolerations" not in driver
    assert "gpu" not in driver
    qc = _predictors(graph)["qc-scorer"]
    assert qc["nodeSelector"] == CPU_SELECTOR and "tolerations" not in qc
    assert "nvidia.com/gpu" not in qc["model"]["resources"]["limits"]


def test_no_dsenv_tier_label_on_a_cluster_dsenv_does_not_label() -> None:
    """On an existing cluster no node carries `dsenv.io/tier`: a selector on it would leave
    every pod Pending."""
    for name in ("genomics", "sandbox"):
        text = json.dumps([r.inputs for r in example(name).graph])
        assert "dsenv.io/tier" not in text, name
    assert _hub_values(example("sandbox").graph)["singleuser"]["nodeSelector"] == {}


def test_gpu_resource_of_the_tier_is_what_every_pod_requests(tmp_path: Path) -> None:
    text = (PROFILES / "genomics.yaml").read_text(encoding="utf-8")
    profile = _copy(tmp_path, "genomics", text.replace("nvidia.com/gpu\n", "amd.com/gpu\n"))
    env = offline(profile)
    predictor = _predictors(env.graph)["variant-caller"]
    assert predictor["model"]["resources"]["limits"] == {
        "cpu": "16000m",
        "memory": "122880Mi",
        "amd.com/gpu": "1",
    }
    assert _spark_application(env.graph)["spec"]["executor"]["gpu"] == {
        "name": "amd.com/gpu",
        "quantity": 1,
    }
    (runner,) = _runner_pods(env.graph)
    assert runner["containers"][0]["resources"]["requests"]["amd.com/gpu"] == "1"
    assert env.spec.namespace.quota["requests.amd.com/gpu"] == "4"


def test_quota_is_max_pods_of_each_tier() -> None:
    """genomics: 12 pods of the cpu tier (4 CPU, 16Gi) and 4 of the a100 tier (16 CPU,
    120Gi, 1 GPU)."""
    quota = example("genomics").spec.namespace.quota
    assert quota["requests.cpu"] == f"{12 * 4000 + 4 * 16000}m"
    assert quota["requests.memory"] == f"{(12 * 16 + 4 * 120) * 1024}Mi"
    assert quota["requests.nvidia.com/gpu"] == "4"


# ---- images ------------------------------------------------------------------------------------


def _images(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every image reference in a resource's inputs: `image` strings, the hub chart's
    `{name, tag}` image objects, and inside the YAML documents ConfigMaps carry."""
    if isinstance(value, dict):
        for key, sub in value.items():
            path = f"{where}.{key}" if where else str(key)
            if key == "image" and isinstance(sub, str):
                yield path, sub
            elif key == "image" and isinstance(sub, dict) and "name" in sub:
                yield path, f"{sub['name']}:{sub['tag']}"
            else:
                yield from _images(sub, path)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _images(sub, f"{where}[{i}]")
    elif isinstance(value, str) and where.startswith("data.") and "image:" in value:
        yield from _images(yaml.safe_load(value), where)


def _all_images(graph: ResourceGraph) -> dict[str, str]:
    return {
        f"{r.name}:{path}": image
        for r in graph
        if r.type.startswith("kubernetes:")
        for path, image in _images(r.inputs)
    }


REGISTRY_PROFILE = """\
apiVersion: dsenv/v1
kind: Team
name: ml
target:
  provider: kubernetes
  registry: ghcr.io/acme-research
  image_pull_secret: ghcr-pull
tiers:
  cpu: {cpu: 2, memory: 8Gi}
  gpu: {cpu: 8, memory: 32Gi, gpus: 1, tolerations: [{key: nvidia.com/gpu, operator: Exists}]}
workspaces: {image: "notebooks/ml:2025.10"}
spark: {driver_tier: cpu, executor_tier: gpu}
ci_runners: {provider: github, organization: acme, tier: cpu}
serving:
  tier: gpu
  models: [{name: ranker, framework: onnx, storage_uri: "pvc://models/ranker/3"}]
"""


SPARK_VERSION = "3.5.5"  # the profiles' default `spark.version`


@pytest.mark.parametrize(
    ("name", "registry"),
    [
        ("genomics", "harbor.lab.example/research"),
        ("sandbox", "localhost"),
        ("ml", "ghcr.io/acme-research"),
    ],
)
def test_every_image_in_every_pod_template_is_under_the_registry(
    tmp_path: Path, name: str, registry: str
) -> None:
    env = offline(_copy(tmp_path, name, REGISTRY_PROFILE)) if name == "ml" else example(name)
    images = _all_images(env.graph)
    # the hub's user image (and, with them, Spark and the runners) are all found
    assert any(".singleuser.image" in where for where in images), images
    assert (name == "sandbox") == (not any("sparkapplication" in w for w in images))
    for where, image in images.items():
        assert is_qualified(image), (where, image)
        if "sparkapplication" in where:
            # Apache Spark's own image stays at its registry, as the operators' images do
            # (docs/profiles.md, Images); `spark.image` puts one under the registry
            assert image == spark_image(SPARK_VERSION), (where, image)
            continue
        assert image.startswith(f"{registry}/"), (where, image)


def test_a_spark_image_of_the_profile_is_under_the_registry(tmp_path: Path) -> None:
    text = REGISTRY_PROFILE.replace(
        "spark: {driver_tier: cpu, executor_tier: gpu}",
        'spark: {driver_tier: cpu, executor_tier: gpu, image: "spark/py:3.5.5"}',
    )
    env = offline(_copy(tmp_path, "ml", text))
    images = {w: i for w, i in _all_images(env.graph).items() if "sparkapplication" in w}
    assert images and set(images.values()) == {"ghcr.io/acme-research/spark/py:3.5.5"}


def test_image_scan_finds_an_unqualified_image() -> None:
    """The scan above is not vacuous: a Docker Hub short name anywhere is found."""
    graph = example("genomics").graph
    (runner,) = _release(graph, "gha-runner-scale-set")
    spec = runner.inputs["values"]["template"]["spec"]
    broken = {"values": {"template": {"spec": {**spec, "containers": [{"image": "runner:1"}]}}}}
    assert dict(_images(broken)) == {"values.template.spec.containers[0].image": "runner:1"}
    assert not is_qualified("runner:1") and not is_qualified("acme/runner:1")
    assert is_qualified("localhost/runner:1") and is_qualified("registry:5000/runner:1")


def test_a_relative_workspace_image_is_one_under_the_registry(tmp_path: Path) -> None:
    env = offline(_copy(tmp_path, "ml", REGISTRY_PROFILE))
    image = _hub_values(env.graph)["singleuser"]["image"]
    assert image == {
        "name": "ghcr.io/acme-research/notebooks/ml",
        "tag": "2025.10",
        "pullSecrets": ["ghcr-pull"],
    }
    # the runners run the team image, under the same registry; Spark runs Spark's image,
    # with the same pull credentials
    app = _spark_application(env.graph)["spec"]
    assert app["image"] == spark_image(SPARK_VERSION)
    assert app["imagePullSecrets"] == ["ghcr-pull"]
    (runner,) = _runner_pods(env.graph)
    assert runner["imagePullSecrets"] == [{"name": "ghcr-pull"}]


# ---- storage -----------------------------------------------------------------------------------


def test_volumes_use_the_storage_class_of_each_capability() -> None:
    graph = example("genomics").graph
    values = _hub_values(graph)
    assert values["singleuser"]["storage"]["dynamic"] == {"storageClass": "ceph-rbd"}
    assert values["hub"]["db"] == {"pvc": {"storageClassName": "ceph-rbd"}}
    (pool,) = graph.of_type("kubernetes:kafka.strimzi.io/v1:KafkaNodePool")
    (volume,) = pool.inputs["spec"]["storage"]["volumes"]
    assert volume["class"] == "ceph-rbd-retain"
    # unset: the cluster's default class (kind's `standard`), so no class is named
    sandbox = _hub_values(example("sandbox").graph)
    assert "dynamic" not in sandbox["singleuser"]["storage"] and "db" not in sandbox["hub"]


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env") or []}


def test_the_object_store_reaches_every_workload_by_reference() -> None:
    graph = example("genomics").graph
    secret = {"secretKeyRef": {"name": "s3-credentials", "key": "AWS_SECRET_ACCESS_KEY"}}
    expected = {
        "AWS_ENDPOINT_URL": "https://s3.lab.example",
        "MLFLOW_S3_ENDPOINT_URL": "https://s3.lab.example",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": {
            "secretKeyRef": {"name": "s3-credentials", "key": "AWS_ACCESS_KEY_ID"}
        },
        "AWS_SECRET_ACCESS_KEY": secret,
        "DSENV_ARTIFACTS_URI": "s3://genomics-artifacts",
    }
    hub_env = _hub_values(graph)["singleuser"]["extraEnv"]
    store_env = {k: v for k, v in hub_env.items() if not k.startswith(("KAFKA_", "SPARK_"))}
    assert {k: v.get("value", v.get("valueFrom")) for k, v in store_env.items()} == expected
    app = _spark_application(graph)["spec"]
    assert _env(app["driver"]) == expected and _env(app["executor"]) == expected
    assert app["sparkConf"]["spark.hadoop.fs.s3a.endpoint"] == "https://s3.lab.example"
    assert app["sparkConf"]["spark.hadoop.fs.s3a.path.style.access"] == "true"
    (runner,) = _runner_pods(graph)
    assert _env(runner["containers"][0]) == expected
    # KServe's storage initializer takes the credentials from the model server's account
    (account,) = [
        r
        for r in graph.of_type("kubernetes:core/v1:ServiceAccount")
        if r.inputs["metadata"]["name"] == "model-server"
    ]
    assert account.inputs["secrets"] == [{"name": "s3-credentials"}]
    # nothing of the secret itself is anywhere in the graph: only its name
    assert "s3-credentials" in json.dumps([r.inputs for r in graph])


def test_https_on_443_needs_no_policy_and_minio_in_the_cluster_gets_its_namespace(
    tmp_path: Path,
) -> None:
    def policies(graph: ResourceGraph) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.inputs["spec"]
            for r in graph.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        }

    assert not [k for k in policies(example("genomics").graph) if "object-storage" in k[1]]
    text = (PROFILES / "org" / "institute.yaml").read_text(encoding="utf-8")
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "institute.yaml").write_text(
        text.replace("https://s3.lab.example", "http://minio.storage.svc.cluster.local:9000"),
        encoding="utf-8",
    )
    team = tmp_path / "genomics.yaml"
    team.write_text((PROFILES / "genomics.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    env = offline(team)
    found = policies(env.graph)
    for namespace in ("genomics", "genomics-runners"):
        spec = found[(namespace, "allow-object-storage-egress")]
        (rule,) = spec["egress"]
        assert rule["ports"] == [{"protocol": "TCP", "port": 9000}]
        assert rule["to"] == [
            {
                "namespaceSelector": {
                    "matchExpressions": [
                        {
                            "key": "kubernetes.io/metadata.name",
                            "operator": "In",
                            "values": ["storage"],
                        }
                    ]
                }
            }
        ]
    app = _spark_application(env.graph)["spec"]
    assert app["sparkConf"]["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"


def test_a_kserve_of_the_teams_own_reads_models_from_the_store(tmp_path: Path) -> None:
    text = (PROFILES / "org" / "institute.yaml").read_text(encoding="utf-8")
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "institute.yaml").write_text(
        text.replace("operators: shared", "operators: install"), encoding="utf-8"
    )
    team = tmp_path / "genomics.yaml"
    team.write_text((PROFILES / "genomics.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    graph = offline(team).graph
    (kserve,) = _release(graph, "kserve")
    assert kserve.inputs["values"]["kserve"]["storage"]["s3"] == {
        "endpoint": "s3.lab.example:443",
        "useHttps": "1",
        "region": "us-east-1",
    }


def test_pvc_models_are_served_from_the_claim() -> None:
    predictor = _predictors(example("genomics").graph)["qc-scorer"]
    assert predictor["model"]["storageUri"] == "pvc://reference-models/qc-scorer/2"


def _copy(tmp_path: Path, name: str, text: str) -> Path:
    """A profile written beside a copy of the example orgs, so `extends` resolves."""
    (tmp_path / "org").mkdir(exist_ok=True)
    for org in (PROFILES / "org").glob("*.yaml"):
        (tmp_path / "org" / org.name).write_text(org.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_dsenv_check_of_the_on_premise_example_has_no_finding(upstream: Path) -> None:
    """Every rule, kubernetes-validate strict and the upstream CRDs and chart schemas: 0."""
    from typer.testing import CliRunner

    from dsenv.cli.app import app

    result = CliRunner().invoke(
        app, ["check", str(PROFILES / "genomics.yaml"), "--schemas", str(upstream)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "0 findings"
    # the Kafka, its node pool, the topic, two KafkaUsers (the declared one and the
    # workspaces'), two InferenceServices; the SparkApplication template is in a ConfigMap
    assert "7 custom resources (CRDs)" in result.stdout
    graph = example("genomics").graph
    assert not [r.type for r in graph if r.type.startswith("aws:")]
