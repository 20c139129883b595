"""The capabilities of an environment, listed once.

A capability is one thing a team gets (dev workspaces, Spark, Kafka, ...) or one part of the
foundation they stand on (the team namespace; on AWS the network, cluster, storage and
identity). Its name is the `<area>` of the type token of its Pulumi components
(`dsenv:<area>:<Component>`), so every resource's capability can be read off its URN, whose
type chain names every component above it.

This table feeds the profile model (the sections that switch a capability on), the order of
`plan`, `cost` and `graph`, the check of `--only`, and `capability_of`, the one answer to
"which capability owns this resource" that capture, the policy pack, engine events and
`--only` targets all use. It imports nothing heavy: every command may read it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from dsenv.errors import UsageError

Target = Literal["aws", "kubernetes"]


@dataclass(frozen=True)
class Capability:
    name: str  # the area in its components' type tokens: dsenv:<name>:<Component>
    summary: str
    section: str | None = None  # the Team profile section that switches it on; None: always
    targets: tuple[Target, ...] = ("aws", "kubernetes")


#: Every capability, in the order reports list them: foundation first, then what teams use.
CAPABILITIES: tuple[Capability, ...] = (
    Capability("base", "team namespace, quota, limits and network policy"),
    Capability("network", "VPC, private subnets, NAT gateways, flow logs", targets=("aws",)),
    Capability("cluster", "EKS control plane, a node group per tier, add-ons", targets=("aws",)),
    Capability("storage", "S3 buckets and the ECR repository", targets=("aws",)),
    Capability("identity", "an IAM role per workload (IRSA)", targets=("aws",)),
    Capability("workspaces", "JupyterHub with a profile per tier", section="workspaces"),
    Capability("spark", "the Spark operator, or EMR on target aws", section="spark"),
    Capability("kafka", "Strimzi Kafka, or Amazon MSK on target aws", section="kafka"),
    Capability("runners", "GitHub Actions runner scale sets", section="ci_runners"),
    Capability("serving", "KServe InferenceServices", section="serving"),
    Capability(
        "pipelines",
        "scheduled jobs, Spark jobs and Argo workflows",
        section="pipelines",
    ),
)

NAMES: tuple[str, ...] = tuple(c.name for c in CAPABILITIES)
#: Team sections that switch a capability on (an org default for one never does).
SECTIONS: tuple[str, ...] = tuple(c.section for c in CAPABILITIES if c.section)
#: A resource outside every dsenv component (the providers) is reported under this one.
FOUNDATION = "base"


def component_type(capability: str, component: str) -> str:
    """The type token of a component of `capability`: `dsenv:<capability>:<component>`."""
    if capability not in NAMES:
        raise ValueError(f"{capability!r} is not a registered capability")
    return f"dsenv:{capability}:{component}"


def order(name: str) -> tuple[int, str]:
    """Sort key: registry order, unknown names last."""
    return (NAMES.index(name) if name in NAMES else len(NAMES), name)


def check_name(name: str) -> str:
    """`name` if it is a capability, else a usage error listing them (with a guess)."""
    if name in NAMES:
        return name
    guess = difflib.get_close_matches(name, NAMES, n=1, cutoff=0.6)
    raise UsageError(
        f"{name!r} is not a capability" + (f"; did you mean {guess[0]!r}?" if guess else ""),
        hint=f"capabilities: {', '.join(NAMES)}",
    )


def component_area(urn: str) -> str | None:
    """The capability of the outermost dsenv component in a URN's type chain, or None for a
    resource outside every component. (`urn:pulumi:<stack>::<project>::<parent types$type>::<name>`:
    the engine qualifies a child's type with every ancestor's type, the stack excepted.)"""
    parts = urn.split("::")
    if len(parts) < 4:
        return None
    for token in parts[2].split("$"):
        kind, _, rest = token.partition(":")
        if kind == "dsenv":
            return rest.partition(":")[0]
    return None


def capability_of(urn: str) -> str:
    """Which capability owns the resource with this URN."""
    return component_area(urn) or FOUNDATION
