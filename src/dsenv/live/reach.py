"""Can this machine reach the EKS API of a target aws stack? Decided here, for `dsenv up`
(before the engine runs) and `dsenv doctor --profile`.

The same program that creates the cluster installs Helm releases and Kubernetes objects
through its endpoint, so a run from a machine that cannot reach it fails half-way, after
minutes of waiting. When the stack already has a cluster, its `cluster_endpoint` output is
resolved and a TCP connection opened to it (port 443) with a short timeout; when that fails
the run stops with exit 3 and says what to do. A first `up` (no outputs yet) checks nothing,
since the cluster does not exist; with a private endpoint it warns that this machine must be
inside the VPC.

A private-only endpoint's public DNS name resolves to private addresses of the VPC, so from
outside the connection times out rather than the name failing to resolve
(https://repost.aws/knowledge-center/eks-private-cluster-endpoint-vpc).
"""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dsenv.errors import OperationalError

if TYPE_CHECKING:
    from dsenv.live.doctor import Check
    from dsenv.live.settings import LiveSettings
    from dsenv.spec.aws import ClusterSpec
    from dsenv.spec.model import EnvironmentSpec

#: The stack output that holds the EKS API URL (exported by `stacks/program.py`).
ENDPOINT_OUTPUT = "cluster_endpoint"
TIMEOUT = 3.0  # seconds: a reachable EKS API answers a TCP connect well within this
PORT = 443

INSIDE_VPC = "run dsenv from inside the VPC (VPN, bastion, or a CI runner in the VPC)"


class ApiUnreachableError(OperationalError):
    """The cluster's API endpoint does not accept a connection from this machine."""


def is_private(cluster: ClusterSpec) -> bool:
    """`endpoint: private`, or no public_access_cidrs: reachable from the VPC only."""
    return not cluster.endpoint_public


def fix(cluster: ClusterSpec) -> str:
    if is_private(cluster):
        return INSIDE_VPC
    now = ", ".join(cluster.public_access_cidrs) or "none"
    return (
        f"add this machine's public address to target.public_access_cidrs (now: {now}) "
        "or connect through the VPN"
    )


def endpoint_of(outputs: Mapping[str, Any] | None) -> str | None:
    value = (outputs or {}).get(ENDPOINT_OUTPUT)
    return value if isinstance(value, str) and value and value != "[secret]" else None


def check_reachable(endpoint: str, cluster: ClusterSpec, timeout: float = TIMEOUT) -> None:
    """ApiUnreachableError (exit 3) unless a TCP connection to the endpoint opens."""
    parts = urllib.parse.urlsplit(endpoint if "//" in endpoint else f"https://{endpoint}")
    host = parts.hostname or endpoint
    try:
        port = parts.port or PORT
    except ValueError:
        port = PORT
    kind = "private" if is_private(cluster) else "public"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:  # name not resolved, refused, timed out, no route
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ApiUnreachableError(
            f"the cluster API {endpoint} ({kind} endpoint) is not reachable from this machine "
            f"({host}:{port}: {reason})",
            hint=fix(cluster),
        ) from None


def preflight_up(
    spec: EnvironmentSpec, read_outputs: Callable[[], Mapping[str, Any]]
) -> str | None:
    """Before `up` runs the engine: raise ApiUnreachableError when the stack's cluster
    cannot be reached; the warning line to print, if any, for a first run."""
    if spec.aws is None:
        return None
    cluster = spec.aws.cluster
    endpoint = endpoint_of(read_outputs())
    if endpoint is not None:
        check_reachable(endpoint, cluster)
        return None
    if is_private(cluster):
        return (
            "warning: the cluster's endpoint is private: the Helm releases and Kubernetes "
            "objects are installed through it, so this machine must be inside the VPC "
            "(VPN, bastion, or a CI runner in the VPC)"
        )
    return None


def read_stack_outputs(settings: LiveSettings, spec: EnvironmentSpec) -> dict[str, Any] | None:
    """The outputs of the profile's stack, or None when the stack does not exist. Never
    creates a stack."""
    from dsenv.live.engine import Engine
    from dsenv.live.programs import program_for
    from dsenv.live.pulumicli import find_pulumi

    if settings.state_dir is not None and not settings.state_dir.exists():
        return None  # no file backend yet, so no stack (and doctor creates nothing)
    stack = Engine(settings, find_pulumi()).open(spec.stack_name, program_for(spec), create=False)
    return None if stack is None else stack.outputs()


def doctor_check(settings: LiveSettings, spec: EnvironmentSpec) -> Check | None:
    """`dsenv doctor --profile` on an aws profile: the cluster API's reachability."""
    from dsenv.live.doctor import Check

    if spec.aws is None:
        return None
    cluster = spec.aws.cluster
    name = "cluster API"
    try:
        outputs = read_stack_outputs(settings, spec)
    except OperationalError as exc:
        return Check(name, "warn", f"not checked: {exc.message}", exc.hint or "")
    endpoint = endpoint_of(outputs)
    if endpoint is None:
        where = "private, reached from the VPC only" if is_private(cluster) else "public"
        found = (
            f"stack {spec.stack_name} has"
            if outputs is not None
            else f"no stack {spec.stack_name},"
        )
        detail = f"{found} no cluster yet (endpoint {where})"
        return Check(name, "warn" if is_private(cluster) else "ok", detail, fix(cluster))
    try:
        check_reachable(endpoint, cluster)
    except ApiUnreachableError as exc:
        return Check(name, "fail", exc.message, exc.hint or "")
    return Check(name, "ok", f"{endpoint} accepts connections")
