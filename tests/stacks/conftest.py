"""Fixtures for the stacks tests: realistic mocks, expanded example profiles, captured
in-cluster graphs, and readers for the upstream CRDs and chart values.

Test modules reach the helpers through the `kit` fixture, not `from testkit import`: two
conftest.py files outside packages share the module name `conftest`. For the same reason this
file repeats the root conftest's path constants, so `from testkit import ROOT` stays right
whichever of the two was imported last.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from dsenv.offline.capture import ACCOUNT_ID, RealisticMocks, capture
from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.profile.load import load_team
from dsenv.spec.expand import expand_profile
from dsenv.spec.model import EnvironmentSpec

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "profiles"
UPSTREAM = ROOT.parent / "shared" / "upstream"
TEAM_PROFILES = sorted(p for p in PROFILES.glob("*.yaml"))
#: API groups served by the custom resources dsenv writes (everything else is core Kubernetes).
CRD_GROUPS = (
    "kafka.strimzi.io",
    "serving.kserve.io",
    "sparkoperator.k8s.io",
    "actions.github.com",
    "argoproj.io",
)
PROFILE_NAMES = [p.stem for p in TEAM_PROFILES]


def role_arn(workload: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/dsenv-{workload}"


@pytest.fixture(autouse=True)
def realistic_mocks() -> Iterator[RealisticMocks]:
    """Components built directly in a test get the same realistic IDs and ARNs as capture."""
    mocks = RealisticMocks("eu-west-1")
    pulumi.runtime.set_mocks(mocks, project="dsenv", stack="test", preview=False)
    yield mocks


@functools.cache
def spec_for(profile: str) -> EnvironmentSpec:
    return expand_profile(load_team(next(p for p in TEAM_PROFILES if p.stem == profile)))


def build_in_cluster(spec: EnvironmentSpec, *, with_roles: bool = True) -> None:
    """Every in-cluster component of the spec, wired as the program wires them: each
    capability depends on the namespace only. Roles stand in for the AWS half's IRSA roles."""
    from dsenv.stacks.components.kafka import StrimziKafka, StrimziKafkaArgs
    from dsenv.stacks.components.namespace import TeamNamespace, TeamNamespaceArgs
    from dsenv.stacks.components.pipelines import Pipelines, PipelinesArgs
    from dsenv.stacks.components.runners import Runners, RunnersArgs
    from dsenv.stacks.components.serving import Serving, ServingArgs
    from dsenv.stacks.components.spark import SparkOperator, SparkOperatorArgs
    from dsenv.stacks.components.workspaces import Workspaces, WorkspacesArgs

    def role(workload: str) -> str | None:
        return role_arn(workload) if with_roles else None

    namespace = TeamNamespace("namespace", TeamNamespaceArgs(spec.namespace))
    opts = pulumi.ResourceOptions(depends_on=[namespace])
    if spec.workspaces:
        ws = spec.workspaces
        Workspaces(
            "workspaces", WorkspacesArgs(ws, ws.image, role_arn=role("workspaces")), opts=opts
        )
    if spec.spark and spec.spark.engine == "operator":
        sp = spec.spark
        SparkOperator("spark", SparkOperatorArgs(sp, sp.image, role_arn=role("spark")), opts=opts)
    if spec.kafka and spec.kafka.engine == "strimzi":
        StrimziKafka("kafka", StrimziKafkaArgs(spec.kafka), opts=opts)
    if spec.runners:
        rn = spec.runners
        Runners("runners", RunnersArgs(rn, rn.image, role_arn=role("runners")), opts=opts)
    if spec.serving:
        Serving("serving", ServingArgs(spec.serving, role_arn=role("serving")), opts=opts)
    if spec.pipelines:
        pl = spec.pipelines
        Pipelines(
            "pipelines",
            PipelinesArgs(pl, pl.image, spark=spec.spark, role_arn=role("pipelines")),
            opts=opts,
        )


@functools.cache
def in_cluster_graph(profile: str) -> ResourceGraph:
    spec = spec_for(profile)
    return capture(
        lambda: build_in_cluster(spec, with_roles=spec.provider == "aws"), stack=spec.stack_name
    )


def manifest(resource: Resource) -> dict[str, Any]:
    """A captured Kubernetes resource's inputs as the manifest the provider applies."""
    keys = ("apiVersion", "kind", "metadata", "spec", "data", "rules", "roleRef", "subjects")
    return {k: v for k, v in resource.inputs.items() if k in keys}


def is_custom_resource(resource: Resource) -> bool:
    return (
        resource.type.startswith("kubernetes:")
        and resource.type.split(":")[1].split("/")[0] in CRD_GROUPS
    )


def core_objects(graph: ResourceGraph) -> list[dict[str, Any]]:
    return [
        manifest(r)
        for r in graph
        if r.custom
        and r.type.startswith("kubernetes:")
        and not r.type.startswith("kubernetes:helm.sh/")
        and not is_custom_resource(r)
    ]


def custom_resources(graph: ResourceGraph) -> list[dict[str, Any]]:
    return [manifest(r) for r in graph if is_custom_resource(r)]


def chart_name(release: Resource) -> str:
    """The chart of a captured release (the last segment of an OCI reference)."""
    return str(release.inputs["chart"]).rsplit("/", 1)[-1]


def releases(graph: ResourceGraph) -> dict[str, Resource]:
    """Operator releases by chart name (scale sets, one per scope, are left out)."""
    return {
        chart_name(r): r
        for r in graph.of_type("kubernetes:helm.sh/v3:Release")
        if chart_name(r) != "gha-runner-scale-set"
    }


def scale_set_releases(graph: ResourceGraph) -> list[Resource]:
    return [
        r
        for r in graph.of_type("kubernetes:helm.sh/v3:Release")
        if chart_name(r) == "gha-runner-scale-set"
    ]


def load_yaml(path: Path) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader: CRDs are large
    with path.open() as fh:
        return yaml.load(fh, Loader=loader)


@functools.cache
def served_schema(crd_path: Path) -> dict[str, Any]:
    """The openAPIV3Schema of the CRD's served storage version."""
    crd = load_yaml(crd_path)
    versions = [v for v in crd["spec"]["versions"] if v.get("served")]
    version = next((v for v in versions if v.get("storage")), versions[0])
    schema: dict[str, Any] = strict_schema(version["schema"]["openAPIV3Schema"])
    return schema


def strict_schema(schema: Any) -> Any:
    """The schema as the API server applies it with strict field validation (kubectl's
    default): a field the schema does not declare is an error, unless the schema keeps
    unknown fields (`x-kubernetes-preserve-unknown-fields`) or types extra keys itself."""
    if isinstance(schema, list):
        return [strict_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: strict_schema(v)
        if k in ("properties", "items", "additionalProperties", "allOf", "anyOf", "oneOf")
        or isinstance(v, dict | list)
        else v
        for k, v in schema.items()
    }
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


#: kind -> the upstream CRD file that defines it (relative to ../shared/upstream)
CRD_FILES = {
    "Kafka": "strimzi/040-Crd-kafka.yaml",
    "KafkaTopic": "strimzi/043-Crd-kafkatopic.yaml",
    "KafkaUser": "strimzi/044-Crd-kafkauser.yaml",
    "KafkaNodePool": "strimzi/045-Crd-kafkanodepool.yaml",
    "InferenceService": "kserve/serving.kserve.io_inferenceservices.yaml",
    "SparkApplication": "spark-operator/sparkoperator.k8s.io_sparkapplications.yaml",
    "ScheduledSparkApplication": (
        "spark-operator/sparkoperator.k8s.io_scheduledsparkapplications.yaml"
    ),
    "Workflow": "argo-workflows/argoproj.io_workflows.yaml",
    "WorkflowTemplate": "argo-workflows/argoproj.io_workflowtemplates.yaml",
    "CronWorkflow": "argo-workflows/argoproj.io_cronworkflows.yaml",
    "AutoscalingRunnerSet": "actions-runner-controller/actions.github.com_autoscalingrunnersets.yaml",
}


def deep_merge(base: Any, override: Any) -> Any:
    """Helm's merge: maps merge key by key, everything else (lists included) is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: deep_merge(base.get(k), v) for k, v in override.items()}}
    return override


class Kit:
    """The helpers above, handed to tests by the `kit` fixture."""

    role_arn = staticmethod(role_arn)
    spec_for = staticmethod(spec_for)
    build_in_cluster = staticmethod(build_in_cluster)
    in_cluster_graph = staticmethod(in_cluster_graph)
    manifest = staticmethod(manifest)
    core_objects = staticmethod(core_objects)
    custom_resources = staticmethod(custom_resources)
    releases = staticmethod(releases)
    scale_set_releases = staticmethod(scale_set_releases)
    chart_name = staticmethod(chart_name)
    load_yaml = staticmethod(load_yaml)
    served_schema = staticmethod(served_schema)
    deep_merge = staticmethod(deep_merge)
    crd_files = CRD_FILES


@pytest.fixture(scope="session")
def kit() -> Kit:
    return Kit()
