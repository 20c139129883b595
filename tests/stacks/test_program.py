"""The program as a whole: targets, providers, tags, parentage, dependency shape, stack
outputs, and the `pulumi up` entry point (stacks/__main__.py) reading `dsenv:profile`."""

from __future__ import annotations

import runpy
from functools import cache
from pathlib import Path

import pulumi
import pytest

from dsenv.errors import OperationalError
from dsenv.offline.capture import capture, capture_spec
from dsenv.offline.graph import ResourceGraph
from dsenv.profile.load import load_team
from dsenv.spec.expand import expand_profile
from dsenv.spec.model import EnvironmentSpec

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "profiles"
ALL_PROFILES = ("fraud", "genomics", "sandbox", "vision")
IN_CLUSTER = {"workspaces", "spark", "kafka", "runners", "serving"}
AWS_FULL_SET = {
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/flowLog:FlowLog",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:eks/addon:Addon",
    "aws:kms/key:Key",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:iam/role:Role",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:ecr/repository:Repository",
    "pulumi:providers:aws",
    "pulumi:providers:kubernetes",
}


@cache
def spec_of(name: str) -> EnvironmentSpec:
    return expand_profile(load_team(PROFILES / f"{name}.yaml"))


@cache
def graph_of(name: str) -> ResourceGraph:
    return capture_spec(spec_of(name))


@pytest.mark.parametrize(("profile", "context"), [("genomics", "lab-prod"), ("sandbox", None)])
def test_kubernetes_target_creates_no_aws_resource_and_uses_the_profile_context(
    profile: str, context: str | None
) -> None:
    """The profile's context, or none at all: the provider then uses the kubeconfig's
    current context (kind-kind on a default kind cluster)."""
    graph = graph_of(profile)
    assert [
        r.type for r in graph if r.type.startswith("aws:") or r.type == "pulumi:providers:aws"
    ] == []
    providers = graph.of_type("pulumi:providers:kubernetes")
    assert providers and all(p.inputs.get("context") == context for p in providers)
    assert graph.of_type("dsenv:workspaces:Workspaces")
    assert "kubeconfig" not in graph.outputs and graph.outputs["kube_context"] == context


@pytest.mark.parametrize("profile", ["fraud", "vision"])
def test_aws_target_creates_the_full_set(profile: str) -> None:
    types = {r.type for r in graph_of(profile)}
    assert types >= AWS_FULL_SET, AWS_FULL_SET - types


@pytest.mark.parametrize("profile", ["fraud", "vision"])
def test_every_aws_resource_goes_through_one_provider_with_region_and_team_tags(
    profile: str,
) -> None:
    import json

    spec = spec_of(profile)
    graph = graph_of(profile)
    (provider,) = graph.of_type("pulumi:providers:aws")
    assert provider.inputs["region"] == spec.aws.region  # type: ignore[union-attr]
    assert json.loads(provider.inputs["defaultTags"])["tags"] == spec.tags
    aws_resources = [r for r in graph if r.custom and r.type.startswith("aws:")]
    assert aws_resources
    for r in aws_resources:
        assert r.provider is not None and r.provider.startswith(provider.urn + "::"), r.urn


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_every_resource_lives_under_a_dsenv_component(profile: str) -> None:
    graph = graph_of(profile)
    by_urn = graph.by_urn()
    for r in graph:
        if r.type.startswith("dsenv:"):
            assert r.parent is None or by_urn[r.parent].type.startswith("dsenv:")
            continue
        if r.type.startswith("pulumi:providers:") and r.parent is None:
            continue  # the program's explicit providers
        assert r.parent is not None, r.urn
        assert by_urn[r.parent].type.startswith("dsenv:"), r.urn


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_in_cluster_capabilities_do_not_depend_on_each_other(profile: str) -> None:
    graph = graph_of(profile)
    by_urn = graph.by_urn()
    present = {r.capability for r in graph} & IN_CLUSTER
    assert present, "every example profile has in-cluster capabilities"
    for r in graph:
        if r.capability not in IN_CLUSTER:
            continue
        for dep in r.dependencies:
            other = by_urn[dep].capability
            assert other == r.capability or other not in IN_CLUSTER, f"{r.urn} -> {dep}"


@pytest.mark.parametrize("profile", ["fraud", "vision"])
def test_storage_and_network_do_not_wait_for_the_cluster(profile: str) -> None:
    graph = graph_of(profile)
    by_urn = graph.by_urn()
    for r in graph:
        if r.capability in ("storage", "network"):
            deps = {by_urn[d].capability for d in r.dependencies}
            assert deps <= {r.capability}, f"{r.urn} depends on {deps}"


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_every_capability_resource_waits_for_the_namespace_through_its_provider(
    profile: str,
) -> None:
    """A component's depends_on does not reach its children; the provider does."""
    graph = graph_of(profile)
    by_urn = graph.by_urn()
    namespace = next(r for r in graph if r.type == "dsenv:base:TeamNamespace")
    (team_ns,) = [
        r for r in graph.children(namespace.urn) if r.type == "kubernetes:core/v1:Namespace"
    ]
    node_groups = {r.urn for r in graph.of_type("aws:eks/nodeGroup:NodeGroup")}
    assert (len(node_groups) > 0) == (spec_of(profile).provider == "aws")
    capability_resources = [
        r
        for r in graph
        if r.custom and r.capability in IN_CLUSTER and r.type.startswith("kubernetes:")
    ]
    assert capability_resources
    for r in capability_resources:
        assert r.provider is not None, r.urn
        provider = by_urn[r.provider.rsplit("::", 1)[0]]
        assert team_ns.urn in provider.dependencies, r.urn
        assert node_groups <= set(provider.dependencies), r.urn  # on aws: nodes before workloads
        # the team namespace itself needs only the API server, not the capabilities' provider
        assert team_ns.provider != r.provider


def test_capability_components_depend_on_the_namespace_not_on_storage_or_the_network() -> None:
    graph = graph_of("fraud")
    by_urn = graph.by_urn()
    components = {r.type: r for r in graph if r.type.startswith("dsenv:")}
    for token in (
        "dsenv:workspaces:Workspaces",
        "dsenv:spark:SparkOperator",
        "dsenv:kafka:StrimziKafka",
        "dsenv:runners:Runners",
        "dsenv:serving:Serving",
    ):
        deps = {by_urn[d].capability for d in components[token].dependencies}
        assert "base" in deps, token
        assert not deps & {"storage", "cluster", "network"}, token


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_stack_outputs_name_what_users_need(profile: str) -> None:
    spec = spec_of(profile)
    outputs = graph_of(profile).outputs
    assert outputs["namespace"] == spec.namespace.name
    ws = spec.workspaces
    if ws is not None and ws.ingress is not None and ws.ingress.host is not None:
        assert outputs["hub_url"] == f"https://{ws.ingress.host}"  # what a person types
    else:
        assert outputs["hub_url"] == f"http://proxy-public.{spec.namespace.name}.svc.cluster.local"
    if spec.provider == "aws":
        assert outputs["kubeconfig"] == "[secret]"
        assert outputs["cluster_name"] == spec.aws.cluster.name  # type: ignore[union-attr]
        # what `dsenv up` and `doctor` connect to before they use the cluster
        assert outputs["cluster_endpoint"].startswith("https://")
        assert outputs["data_bucket"] == f"{spec.stack_name}-data"
        assert outputs["artifacts_bucket"] == f"{spec.stack_name}-artifacts"
        assert outputs["registry_url"].endswith(
            f".dkr.ecr.{spec.aws.region}.amazonaws.com/{spec.aws.registry.name}"
        )  # type: ignore[union-attr]
        assert outputs["image"] == f"{outputs['registry_url']}:{spec.image.tag}"
    else:
        # fully qualified: the profile's registry, or localhost/ for a loaded image
        registry = {"sandbox": "localhost", "genomics": "harbor.lab.example/research"}
        assert outputs["image"] == f"{registry[profile]}/{spec.image.repository}:{spec.image.tag}"
        if spec.object_store is not None:
            assert outputs["artifacts_bucket"] == spec.object_store.artifacts_bucket
            assert outputs["object_storage_endpoint"] == spec.object_store.endpoint
    if spec.serving is not None:
        assert set(outputs["serving_endpoints"]) == {m.name for m in spec.serving.models}
    if spec.kafka is not None:
        assert outputs["kafka_bootstrap"]


def test_hub_runs_the_registry_image_on_aws() -> None:
    graph = graph_of("fraud")
    release = next(
        r
        for r in graph.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs.get("chart") == "jupyterhub"
    )
    image = release.inputs["values"]["singleuser"]["image"]
    assert f"{image['name']}:{image['tag']}" == graph.outputs["image"]


# ---- the `pulumi up` entry point ----


def run_main(profile: Path) -> ResourceGraph:
    pulumi.runtime.set_config("dsenv:profile", str(profile))
    return capture(
        lambda: runpy.run_path(str(ROOT / "stacks" / "__main__.py"), run_name="__main__"),
        stack="main",
    )


def test_main_runs_the_program_for_the_configured_profile() -> None:
    graph = run_main(PROFILES / "sandbox.yaml")
    expected = graph_of("sandbox")
    assert sorted(r.urn.split("::", 2)[2] for r in graph) == sorted(
        r.urn.split("::", 2)[2] for r in expected
    )


def test_main_fails_with_the_profile_error_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: dsenv/v1\nkind: Team\nname: bad\nnope: 1\n")
    with pytest.raises(OperationalError) as info:
        run_main(bad)
    assert isinstance(info.value.__cause__, pulumi.RunError)
    assert f"{bad}:4:1" in str(info.value)


def test_relative_profile_paths_resolve_from_the_project_directory(tmp_path: Path) -> None:
    main = runpy.run_path(str(ROOT / "stacks" / "__main__.py"), run_name="dsenv_main_module")
    assert (
        main["profile_path"]("profiles/fraud.yaml", tmp_path)
        == tmp_path / "profiles" / "fraud.yaml"
    )
    assert main["profile_path"]("/abs/x.yaml", tmp_path) == Path("/abs/x.yaml")


def test_pulumi_project_file_runs_stacks_and_declares_the_profile_key() -> None:
    import yaml

    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "dsenv"
    assert project["runtime"]["name"] == "python"
    assert project["main"] == "stacks/"
    assert (ROOT / project["main"] / "__main__.py").is_file()
    assert project["config"]["profile"]["type"] == "string"
