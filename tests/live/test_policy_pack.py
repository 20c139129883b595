"""The CrossGuard pack run the way the Pulumi engine runs it: the policy SDK's own analyzer
servicer behind a real gRPC server, sent `AnalyzeStack` requests holding the captured graph
of every example as the engine serializes it (protobuf Structs, unknowns as the SDK's
sentinels), so the pack sees the SDK's proxies exactly as under `pulumi preview
--policy-pack policy`."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import pytest

pytest.importorskip(
    "pulumi_policy", reason="pulumi-policy is not installed (pip install -e '.[policy]')"
)

import grpc
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel
from pulumi_policy import proxy as policy_proxy
from pulumi_policy.policy import _PolicyAnalyzerServicer
from testkit import ROOT, TEAM_PROFILES, graph_of, spec_of

from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.offline.rules import RULES
from dsenv.policy.pack import UNKNOWN_MASK, policies

EXAMPLES = [p.stem for p in TEAM_PROFILES]


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """What `PolicyPack(...)` in policy/__main__.py serves, in process."""
    servicer = _PolicyAnalyzerServicer(
        "dsenv-security", "0.0.1", policies(), EnforcementLevel.ADVISORY
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    analyzer_pb2_grpc.add_AnalyzerServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    finally:
        server.stop(0)


def _wire(value: Any) -> Any:
    """Plain graph data as the engine marshals it: unknowns as the unknown sentinel."""
    if value == UNKNOWN_MASK:
        return policy_proxy.UNKNOWN_STRING_VALUE
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def request(graph: ResourceGraph) -> analyzer_pb2.AnalyzeStackRequest:
    resources = []
    for r in graph:
        properties = struct_pb2.Struct()
        json_format.ParseDict(_wire(r.inputs), properties)
        resources.append(
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                properties=properties,
                urn=r.urn,
                name=r.name,
                options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect),
                parent=r.parent or "",
                dependencies=list(r.dependencies),
            )
        )
    return analyzer_pb2.AnalyzeStackRequest(resources=resources)


def diagnostics(stub: Any, graph: ResourceGraph) -> list[Any]:
    return list(stub.AnalyzeStack(request(graph)).diagnostics)


def mandatory(found: list[Any]) -> list[str]:
    return [d.policyName for d in found if d.enforcementLevel == analyzer_pb2.MANDATORY]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_passes_the_pack_as_the_engine_sends_it(analyzer: Any, name: str) -> None:
    found = diagnostics(analyzer, graph_of(name))
    assert [(d.policyName, d.message) for d in found] == []


def preview_graph(name: str) -> ResourceGraph:
    """The example's graph as a first preview sees it: every output the cloud computes
    (IDs, ARNs, documents built from them) unknown. The program runs under the SDK's mock
    runtime in preview mode, with mocks that return only the inputs."""
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from dsenv.offline.capture import RealisticMocks, _CaptureMonitor
    from dsenv.offline.collector import collector_paused
    from dsenv.stacks.program import program

    class PreviewMocks(RealisticMocks):
        def new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
            return None, dict(args.inputs)

    spec = spec_of(name)
    monitor = _CaptureMonitor(PreviewMocks(spec.aws.region if spec.aws else "us-east-1"))
    pulumi.runtime.settings.ROOT.set(None)
    pulumi_mocks.set_mocks(
        monitor.mocks, project="dsenv", stack=spec.stack_name, preview=True, monitor=monitor
    )
    settings = pulumi.runtime.settings.SETTINGS
    settings.rpc_manager.clear()
    settings.outputs.clear()
    with collector_paused():
        _sync_await(run_pulumi_func(lambda: program(spec)))
    return monitor.graph("dsenv", spec.stack_name)


def _unknowns(value: Any) -> int:
    if value == UNKNOWN_MASK:
        return 1
    if isinstance(value, dict):
        return sum(_unknowns(v) for v in value.values())
    if isinstance(value, list):
        return sum(_unknowns(v) for v in value)
    return 0


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_a_first_preview_with_unknown_values_reports_no_false_violation(
    analyzer: Any, name: str
) -> None:
    graph = preview_graph(name)
    aws = spec_of(name).aws is not None
    # an AWS preview really has unknowns (an in-cluster one may have none)
    assert sum(_unknowns(r.inputs) for r in graph) > 0 or not aws
    found = diagnostics(analyzer, graph)
    assert mandatory(found) == []
    undecided = [d for d in found if "during preview" in d.message]
    assert all(d.enforcementLevel == analyzer_pb2.ADVISORY for d in found)
    if aws:
        # the bucket policies are built from bucket ARNs: unknown until the update
        assert "dsenv-s3-tls-only" in {d.policyName for d in undecided}


def test_a_violation_that_reads_no_unknown_is_still_reported_during_preview(
    analyzer: Any,
) -> None:
    graph = preview_graph("fraud")
    broken = edit(
        graph, "aws:ecr/repository:Repository", lambda i: i.update(imageTagMutability="MUTABLE")
    )
    assert "dsenv-ecr-immutable-tags" in {d.policyName for d in diagnostics(analyzer, broken)}


# -- each rule, broken once -----------------------------------------------------------------


def edit(
    graph: ResourceGraph, type_: str, change: Callable[[dict[str, Any]], Any]
) -> ResourceGraph:
    """A copy of the graph with `change` applied to the inputs of every resource of a type."""
    out = []
    hit = False
    for r in graph:
        inputs = copy.deepcopy(r.inputs)
        if r.type == type_:
            change(inputs)
            hit = True
        out.append(Resource(**{**r.__dict__, "inputs": inputs}))
    assert hit, f"no {type_} in the graph"
    return ResourceGraph(graph.stack, graph.project, out)


def add(graph: ResourceGraph, resource: Resource) -> ResourceGraph:
    return ResourceGraph(graph.stack, graph.project, [*graph.resources, resource])


def _doc(change: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    def apply(inputs: dict[str, Any]) -> None:
        document = json.loads(inputs["policy"])
        change(document["Statement"][0])
        inputs["policy"] = json.dumps(document)

    return apply


def _trust(inputs: dict[str, Any]) -> None:
    document = json.loads(inputs["assumeRolePolicy"])
    for s in document["Statement"]:
        condition = s.get("Condition") or {}
        if "StringEquals" in condition:
            condition["StringLike"] = condition.pop("StringEquals")
    inputs["assumeRolePolicy"] = json.dumps(document)


def _hub(inputs: dict[str, Any]) -> None:
    if str(inputs.get("chart", "")).endswith("jupyterhub"):
        config = inputs["values"]["hub"].setdefault("config", {})
        config.setdefault("JupyterHub", {})["authenticator_class"] = "dummy"


BAD_POD = Resource(
    urn="urn:pulumi:acme-fraud::dsenv::kubernetes:core/v1:Pod::debug",
    type="kubernetes:core/v1:Pod",
    name="debug",
    custom=True,
    parent=None,
    dependencies=(),
    inputs={
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "debug", "namespace": "acme-fraud"},
        "spec": {"hostNetwork": True, "containers": [{"name": "sh", "image": "busybox"}]},
    },
)

BROKEN: dict[str, Callable[[ResourceGraph], ResourceGraph]] = {
    "pod-security-restricted": lambda g: add(g, BAD_POD),
    "hub-auth": lambda g: edit(g, "kubernetes:helm.sh/v3:Release", _hub),
    "s3-public-access-block": lambda g: edit(
        g,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        lambda i: i.update(blockPublicAcls=False),
    ),
    "s3-encryption": lambda g: edit(
        g,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        lambda i: i["rules"][0]["applyServerSideEncryptionByDefault"].update(sseAlgorithm="none"),
    ),
    "s3-versioning": lambda g: edit(
        g,
        "aws:s3/bucketVersioning:BucketVersioning",
        lambda i: i["versioningConfiguration"].update(status="Suspended"),
    ),
    "s3-tls-only": lambda g: edit(
        g, "aws:s3/bucketPolicy:BucketPolicy", _doc(lambda s: s.update(Effect="Allow"))
    ),
    "eks-private-endpoint": lambda g: edit(
        g, "aws:eks/cluster:Cluster", lambda i: i["vpcConfig"].update(endpointPrivateAccess=False)
    ),
    "eks-secrets-encryption": lambda g: edit(
        g, "aws:eks/cluster:Cluster", lambda i: i.pop("encryptionConfig", None)
    ),
    "eks-audit-logs": lambda g: edit(
        g, "aws:eks/cluster:Cluster", lambda i: i.update(enabledClusterLogTypes=["api"])
    ),
    "ecr-scan-on-push": lambda g: edit(
        g,
        "aws:ecr/repository:Repository",
        lambda i: i.update(imageScanningConfiguration={"scanOnPush": False}),
    ),
    "ecr-immutable-tags": lambda g: edit(
        g, "aws:ecr/repository:Repository", lambda i: i.update(imageTagMutability="MUTABLE")
    ),
    "iam-no-wildcard-admin": lambda g: edit(
        g, "aws:iam/rolePolicy:RolePolicy", _doc(lambda s: s.update(Action="*", Resource="*"))
    ),
    "iam-irsa-trust": lambda g: edit(g, "aws:iam/role:Role", _trust),
    "iam-parliament": lambda g: edit(
        g, "aws:iam/rolePolicy:RolePolicy", _doc(lambda s: s.update(Action="s3:GetObjekt"))
    ),
    "pipelines-runnable": lambda g: edit(
        g,
        "kubernetes:batch/v1:CronJob",
        lambda i: i["spec"]["jobTemplate"]["spec"]["template"]["spec"].update(
            serviceAccountName="nobody"
        ),
    ),
}


def test_every_rule_has_a_broken_case() -> None:
    assert sorted(BROKEN) == sorted(r.id for r in RULES)


@pytest.mark.parametrize("rule_id", sorted(BROKEN))
def test_the_pack_reports_each_rule_on_its_broken_copy(analyzer: Any, rule_id: str) -> None:
    broken = BROKEN[rule_id](graph_of("fraud"))
    found = diagnostics(analyzer, broken)
    fired = {d.policyName for d in found}
    assert f"dsenv-{rule_id}" in fired
    severity = next(r.severity for r in RULES if r.id == rule_id)
    levels = {d.enforcementLevel for d in found if d.policyName == f"dsenv-{rule_id}"}
    expected = analyzer_pb2.MANDATORY if severity in ("critical", "high") else analyzer_pb2.ADVISORY
    assert levels == {expected}
    assert all(d.urn for d in found if d.policyName == f"dsenv-{rule_id}")


def test_the_pack_has_its_own_requirements_and_runs_on_the_python_with_dsenv() -> None:
    """PulumiPolicy.yaml configures no virtualenv, so the CLI runs the pack with the `python`
    on PATH, where dsenv-cli[policy] is installed; requirements.txt says exactly that."""
    import tomllib

    import yaml

    folder = ROOT / "policy"
    manifest = yaml.safe_load((folder / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"] == "python"
    lines = [
        ln.strip()
        for ln in (folder / "requirements.txt").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert lines == [*extra["policy"], "dsenv-cli"]
    assert not any(ln.startswith("-e") for ln in lines)
