"""The resource graph: every resource the program registers, as plain data.

Built by `dsenv.offline.capture` from the real program run under the SDK's mock runtime;
read by plan, diff, render, check, cost and graph. Nothing here imports Pulumi.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: JSON format version of the graph and of `dsenv plan --format json`.
FORMAT_VERSION = 1
SECRET_MASK = "[secret]"
#: A value known only once `up` runs: in a plan, and in `dsenv diff` for what a replacement
#: upstream makes unknown.
COMPUTED = "[computed]"


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str  # type token, e.g. "aws:eks/cluster:Cluster", "dsenv:kafka:Kafka"
    name: str  # logical name
    custom: bool  # False for component resources
    parent: str | None  # parent URN
    dependencies: tuple[str, ...]  # URNs this resource depends on (explicit and through inputs)
    inputs: dict[str, Any]  # secret values replaced by SECRET_MASK
    protect: bool = False
    provider: str | None = None  # provider reference "urn::id", None for the default provider
    delete_before_replace: bool = False
    ignore_changes: tuple[str, ...] = ()
    capability: str = "base"  # which capability's component owns it (see `capability_of`)
    #: input property -> the URNs whose outputs its value was built from (the engine's
    #: `propertyDependencies`): what a replacement upstream makes unknown here
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: what the provider computes on create (mocked, realistic): the ID, ARNs, endpoints
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def physical_name(self) -> str | None:
        """The name the cloud or the cluster knows it by, when the program sets one."""
        return physical_name(self.type, self.inputs)

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "dependencies": list(self.dependencies),
            "inputs": self.inputs,
            "protect": self.protect,
            "provider": self.provider,
            "delete_before_replace": self.delete_before_replace,
            "ignore_changes": list(self.ignore_changes),
            "capability": self.capability,
            "property_dependencies": {k: list(v) for k, v in self.property_dependencies.items()},
            "outputs": self.outputs,
        }


#: Input properties that hold a resource's physical name, by type prefix (first match wins).
_NAME_KEYS = (
    ("aws:s3/", ("bucket", "bucketPrefix")),
    ("aws:eks/nodeGroup:", ("nodeGroupName",)),
    ("aws:eks/addon:", ("addonName",)),
    ("aws:msk/", ("clusterName",)),
    ("aws:", ("name", "namePrefix")),
    ("kubernetes:helm.sh/", ("name",)),
)


def physical_name(type_token: str, inputs: dict[str, Any]) -> str | None:
    """The physical name in `inputs`: `metadata.name` (with its namespace) for a Kubernetes
    object, the service's name property for a cloud resource; None when it has none."""
    if type_token.startswith("kubernetes:") and not type_token.startswith("kubernetes:helm.sh/"):
        meta = inputs.get("metadata")
        if isinstance(meta, dict) and isinstance(meta.get("name"), str):
            ns = meta.get("namespace")
            return f"{ns}/{meta['name']}" if isinstance(ns, str) else str(meta["name"])
        return None
    for prefix, keys in _NAME_KEYS:
        if type_token.startswith(prefix):
            for key in keys:
                if isinstance(inputs.get(key), str):
                    return str(inputs[key])
            return None
    return None


@dataclass
class ResourceGraph:
    stack: str
    project: str
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)  # stack outputs, secrets masked

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def by_urn(self) -> dict[str, Resource]:
        return {r.urn: r for r in self.resources}

    def of_type(self, type_token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> Resource:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def children(self, urn: str) -> list[Resource]:
        return [r for r in self.resources if r.parent == urn]

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
        }


def resource_from_json(data: dict[str, Any]) -> Resource:
    return Resource(
        urn=data["urn"],
        type=data["type"],
        name=data["name"],
        custom=bool(data.get("custom", True)),
        parent=data.get("parent"),
        dependencies=tuple(data.get("dependencies") or ()),
        inputs=dict(data.get("inputs") or {}),
        protect=bool(data.get("protect", False)),
        provider=data.get("provider"),
        delete_before_replace=bool(data.get("delete_before_replace", False)),
        ignore_changes=tuple(data.get("ignore_changes") or ()),
        capability=str(data.get("capability", "base")),
        property_dependencies={
            str(k): tuple(v) for k, v in (data.get("property_dependencies") or {}).items()
        },
        outputs=dict(data.get("outputs") or {}),
    )


def graph_from_json(data: dict[str, Any]) -> ResourceGraph:
    """The inverse of `ResourceGraph.to_json` (also reads a `dsenv plan --format json`)."""
    return ResourceGraph(
        stack=str(data.get("stack", "")),
        project=str(data.get("project", "")),
        resources=sorted(
            (resource_from_json(r) for r in data.get("resources", [])), key=lambda r: r.urn
        ),
        outputs=dict(data.get("outputs") or {}),
    )
