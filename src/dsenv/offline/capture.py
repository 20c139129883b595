"""Run the real dsenv program under the Pulumi SDK's mock runtime and capture every
resource it registers: type, name, URN, parent, dependencies, inputs (secrets masked) and
resource options. No Pulumi CLI, no state, no credentials.

The capture hooks the mock *monitor*: it sees the exact RegisterResource requests the
program sends to the engine, so options such as `protect` or `delete_before_replace` are
what the program really asked for, not a reconstruction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from dsenv.capabilities import capability_of
from dsenv.errors import OperationalError
from dsenv.offline.collector import collector_paused
from dsenv.offline.graph import COMPUTED, SECRET_MASK, Resource, ResourceGraph

if TYPE_CHECKING:
    from dsenv.spec.model import EnvironmentSpec

PROJECT = "dsenv"
ACCOUNT_ID = "123456789012"
UNKNOWN_MASK = COMPUTED
_SIG = rpc._special_sig_key
_SECRET = rpc._special_secret_sig
_RESOURCE = rpc._special_resource_sig


def capture_spec(spec: EnvironmentSpec) -> ResourceGraph:
    """The resource graph of dsenv's program for one expanded profile."""
    with collector_paused():
        from dsenv.stacks.program import program

        region = spec.aws.region if spec.aws else "us-east-1"
        return capture(lambda: program(spec), stack=spec.stack_name, region=region)


def capture(
    program: Callable[[], None], *, stack: str, project: str = PROJECT, region: str = "us-east-1"
) -> ResourceGraph:
    """Run `program` under mocks and return what it registered (sorted by URN)."""
    monitor = _CaptureMonitor(RealisticMocks(region))
    pulumi.runtime.settings.ROOT.set(None)  # a fresh root stack per capture: no leftover exports
    pulumi_mocks.set_mocks(
        monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor
    )
    settings = pulumi.runtime.settings.SETTINGS
    settings.rpc_manager.clear()
    settings.outputs.clear()
    try:
        with collector_paused():
            _sync_await(run_pulumi_func(program))
            outputs = _sync_await(_stack_outputs())
    except Exception as exc:
        raise OperationalError(
            f"the program failed under the mock runtime: {type(exc).__name__}: {exc}"
        ) from exc
    if monitor.duplicates:
        # the engine refuses a second registration of a URN; keeping one would make a
        # smaller plan than the program really asks for
        raise OperationalError(
            "the program registers a resource URN more than once (a dsenv bug): "
            + ", ".join(sorted(set(monitor.duplicates)))
        )
    graph = monitor.graph(project, stack)
    graph.outputs = outputs
    return graph


async def _stack_outputs() -> dict[str, Any]:
    """`pulumi.export`ed values, resolved; secret ones masked."""
    root = pulumi.runtime.settings.get_root_resource()
    exported: dict[str, Any] = getattr(root, "outputs", {}) or {}
    result: dict[str, Any] = {}
    for key in sorted(exported):
        output = pulumi.Output.from_input(exported[key])
        secret = await output.is_secret()
        value = await output.future()
        result[key] = SECRET_MASK if secret else _plain(value)
    return result


class RealisticMocks(pulumi.runtime.Mocks):
    """IDs, ARNs and computed outputs shaped like the real ones, deterministic per URN."""

    def __init__(self, region: str) -> None:
        self.region = region

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        token = args.typ
        short = hashlib.sha256(f"{token}::{args.name}".encode()).hexdigest()[:8]
        state = dict(args.inputs)
        name = str(state.get("name") or f"{args.name}-{short}")
        resource_id = f"{args.name}-{short}"
        if token.startswith("aws:"):
            service = token.split(":")[1].split("/")[0]
            state.setdefault(
                "arn", f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{args.name}/{resource_id}"
            )
            resource_id = _aws_id(token, args.name, short, state)
            state.update(_aws_outputs(token, name, resource_id, self.region, state))
        elif token.startswith("kubernetes:"):
            meta = state.get("metadata") or {}
            ns = meta.get("namespace") or state.get("namespace")
            obj_name = meta.get("name") or state.get("name") or args.name
            resource_id = f"{ns}/{obj_name}" if ns else str(obj_name)
        return resource_id, state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        # failures must be a list: the SDK's mock monitor iterates it
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/dsenv",
                "userId": "AIDADSENV",
                "id": ACCOUNT_ID,
            }, []
        if token in ("aws:index/getRegion:getRegion",):
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if token == "aws:route53/getZone:getZone":
            zone = str(args.args.get("name", ""))
            zone_id = "Z" + hashlib.sha256(zone.encode()).hexdigest()[:20].upper()
            return {
                "name": zone,
                "zoneId": zone_id,
                "id": zone_id,
                "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
                "privateZone": False,
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{z}" for z in "abc"]
            return {
                "names": names,
                "zoneIds": [f"euw1-az{i}" for i in (1, 2, 3)],
                "id": self.region,
            }, []
        return dict(args.args), []


def _aws_id(token: str, logical: str, short: str, state: dict[str, Any]) -> str:
    prefixes = {
        "aws:ec2/vpc:Vpc": "vpc-",
        "aws:ec2/subnet:Subnet": "subnet-",
        "aws:ec2/securityGroup:SecurityGroup": "sg-",
        "aws:ec2/internetGateway:InternetGateway": "igw-",
        "aws:ec2/natGateway:NatGateway": "nat-",
        "aws:ec2/eip:Eip": "eipalloc-",
        "aws:ec2/routeTable:RouteTable": "rtb-",
        "aws:kms/key:Key": "",
    }
    if token in prefixes:
        return prefixes[token] + hashlib.sha256(logical.encode()).hexdigest()[:17]
    if token == "aws:s3/bucket:Bucket" or token.startswith("aws:s3/bucketV2"):
        return str(state.get("bucket") or f"{state.get('bucketPrefix', logical)}{short}")
    return str(state.get("name") or f"{logical}-{short}")


def _aws_outputs(
    token: str, name: str, resource_id: str, region: str, state: dict[str, Any]
) -> dict[str, Any]:
    if token == "aws:eks/cluster:Cluster":
        issuer = f"https://oidc.eks.{region}.amazonaws.com/id/{hashlib.sha256(name.encode()).hexdigest()[:32].upper()}"
        return {
            "endpoint": f"https://{hashlib.sha256(name.encode()).hexdigest()[:32].upper()}.gr7.{region}.eks.amazonaws.com",
            "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="},
            "identities": [{"oidcs": [{"issuer": issuer}]}],
            "arn": f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{name}",
            "vpcConfig": {
                **state.get("vpcConfig", {}),
                "clusterSecurityGroupId": "sg-0c1a2b3c4d5e6f708",
            },
        }
    if token == "aws:iam/role:Role":
        return {"arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}", "name": name}
    if token == "aws:acm/certificate:Certificate":
        # ACM answers with the DNS record that proves the domain is the requester's
        domain = str(state.get("domainName", ""))
        token_ = hashlib.sha256(domain.encode()).hexdigest()[:32]
        return {
            "arn": f"arn:aws:acm:{region}:{ACCOUNT_ID}:certificate/{resource_id}",
            "domainValidationOptions": [
                {
                    "domainName": domain,
                    "resourceRecordName": f"_{token_}.{domain}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{token_[::-1]}.acm-validations.aws.",
                }
            ],
        }
    if token == "aws:iam/policy:Policy":
        return {"arn": f"arn:aws:iam::{ACCOUNT_ID}:policy/{name}"}
    if token == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        url = str(state.get("url", "")).removeprefix("https://")
        return {"arn": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{url}"}
    if token == "aws:ecr/repository:Repository":
        return {
            "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{name}",
            "arn": f"arn:aws:ecr:{region}:{ACCOUNT_ID}:repository/{name}",
        }
    if token.startswith("aws:s3/bucket"):
        return {
            "bucket": resource_id,
            "arn": f"arn:aws:s3:::{resource_id}",
            "bucketRegionalDomainName": f"{resource_id}.s3.{region}.amazonaws.com",
        }
    if token == "aws:kms/key:Key":
        return {"arn": f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{resource_id}", "keyId": resource_id}
    if token == "aws:msk/cluster:Cluster":
        brokers = ",".join(
            f"b-{i}.{name}.abc123.c2.kafka.{region}.amazonaws.com:9098" for i in (1, 2, 3)
        )
        return {
            "bootstrapBrokersSaslIam": brokers,
            "arn": f"arn:aws:kafka:{region}:{ACCOUNT_ID}:cluster/{name}/abc123",
        }
    if token == "aws:msk/serverlessCluster:ServerlessCluster":
        return {
            "arn": f"arn:aws:kafka:{region}:{ACCOUNT_ID}:cluster/{name}/abc123",
            "bootstrapBrokersSaslIam": f"boot-{name}.c2.kafka-serverless.{region}.amazonaws.com:9098",
        }
    if token == "aws:cloudwatch/logGroup:LogGroup":
        return {"arn": f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{name}"}
    if token == "aws:eks/nodeGroup:NodeGroup":
        return {
            "resources": [{"autoscalingGroups": [{"name": f"eks-{name}-{resource_id[-8:]}"}]}],
            "arn": f"arn:aws:eks:{region}:{ACCOUNT_ID}:nodegroup/{state.get('clusterName', '')}/{name}/{resource_id[-8:]}",
        }
    if token == "aws:emrserverless/application:Application":
        return {"arn": f"arn:aws:emr-serverless:{region}:{ACCOUNT_ID}:/applications/{resource_id}"}
    return {}


class _CaptureMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: RealisticMocks) -> None:
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}
        self.responses: dict[str, Any] = {}
        self.duplicates: list[str] = []
        self.stack_urn = ""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine's rule: a child's type is qualified by its parent's whole type chain,
        # and the root stack is not part of the chain. (The stock mock keeps only the last
        # segment and includes the stack; matching the engine keeps URNs equal to live ones.)
        if parent and parent != self.stack_urn:
            type_ = f"{parent.split('::')[2]}${type_}"
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{name}"

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the monitor's RPC name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = response.urn
        elif response.urn in self.requests:
            self.duplicates.append(response.urn)
        else:
            self.requests[response.urn] = request
            self.responses[response.urn] = response
        return response

    def graph(self, project: str, stack: str) -> ResourceGraph:
        resources = []
        for urn in sorted(self.requests):
            req = self.requests[urn]
            deps = set(req.dependencies)
            for prop_deps in req.propertyDependencies.values():
                deps.update(prop_deps.urns)
            parent = req.parent if req.parent and req.parent != self.stack_urn else None
            inputs = _plain(json_format.MessageToDict(req.object))
            by_property = {
                key: tuple(sorted(u for u in value.urns if u != self.stack_urn))
                for key, value in sorted(req.propertyDependencies.items())
                if any(u != self.stack_urn for u in value.urns)
            }
            resources.append(
                Resource(
                    urn=urn,
                    type=req.type,
                    name=req.name,
                    custom=bool(req.custom),
                    parent=parent,
                    dependencies=tuple(sorted(d for d in deps if d != self.stack_urn)),
                    inputs=inputs,
                    property_dependencies=by_property,
                    outputs=_computed(self.responses[urn], inputs) if req.custom else {},
                    protect=bool(req.protect) if req.HasField("protect") else False,
                    provider=req.provider or None,
                    delete_before_replace=bool(req.deleteBeforeReplace),
                    ignore_changes=tuple(req.ignoreChanges),
                    capability=capability_of(urn),
                )
            )
        return ResourceGraph(stack=stack, project=project, resources=resources)


def _computed(response: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """What the (mock) provider returned beyond the inputs: the ID and computed outputs such
    as ARNs and endpoints. An output equal to its input is left out (it is in `inputs`)."""
    state = _plain(json_format.MessageToDict(response.object))
    out: dict[str, Any] = {"id": response.id} if response.id else {}
    out.update(_beyond(state, inputs))
    return out


def _beyond(state: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """The parts of `state` that its `inputs` do not already hold, mappings compared key by
    key (an EKS cluster's `vpcConfig` output adds only `clusterSecurityGroupId`)."""
    out: dict[str, Any] = {}
    for key in sorted(state):
        value = state[key]
        if key not in inputs:
            out[key] = value
        elif isinstance(value, dict) and isinstance(inputs[key], dict):
            inner = _beyond(value, inputs[key])
            if inner:
                out[key] = inner
        elif value != inputs[key]:
            out[key] = value
    return out


def _plain(value: Any) -> Any:
    """Protobuf-JSON property values -> plain data: secrets masked, references as URNs."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET:
            return SECRET_MASK
        if sig == _RESOURCE:
            return value.get("urn", "")
        if sig is not None:
            return {k: _plain(v) for k, v in value.items() if k != _SIG}
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN_MASK
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf Struct has only doubles; profiles speak integers
    return value
