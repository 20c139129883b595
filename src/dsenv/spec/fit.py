"""What one node of a tier offers a workspace: the instance catalog, the node's allocatable
after the EKS AMI's reservations, and the requests of the DaemonSets dsenv runs on it.

A tier's `cpu`, `memory` and `gpus` are what one workspace gets; on target aws they must fit
one node of every instance type of the tier. This module is the one place that decides it:
`dsenv validate` (profile/checks.py), the node daemons the cluster component configures, and
`dsenv check`'s usable-fit rule all read it.

Allocatable, as the EKS AMI's nodeadm computes it (awslabs/amazon-eks-ami,
nodeadm/internal/kubelet/config.go, `getCPUMillicoresToReserve` and
`getMemoryMebibytesToReserve`):

- kubeReserved CPU: 6 % of the first core, 1 % of the second, 0.5 % of the third and fourth,
  0.25 % of every further core;
- kubeReserved memory: 255 MiB + 11 MiB x max pods (max pods from the AMI's eni-max-pods
  table, in the catalog);
- the kubelet's default hard eviction threshold, memory.available < 100Mi
  (kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/).

The memory a node reports is less than the instance type's nominal memory (firmware and the
kernel keep some): dsenv takes 7.5 % off, Karpenter's default `vmMemoryOverheadPercent`
(karpenter.sh/docs/reference/settings/), so a tier sized here fits the node that boots.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

MIB = 2**20
#: kubeReserved CPU per range of millicores, in hundredths of a percent (nodeadm's table).
_CPU_RANGES = (0, 1000, 2000, 4000)
_CPU_BASIS_POINTS = (600, 100, 50, 25)
KUBE_RESERVED_MEMORY_BASE_MIB = 255
KUBE_RESERVED_MEMORY_PER_POD_MIB = 11
EVICTION_HARD_MEMORY_MIB = 100
VM_MEMORY_OVERHEAD = 0.075


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpu: int
    memory_mib: int  # nominal
    gpus: int
    gpu_model: str | None
    max_pods: int

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]


@cache
def catalog() -> dict[str, InstanceType]:
    """The bundled instance catalog (`dsenv/data/instances.yaml`), by instance type."""
    from dsenv.offline.data import bundled

    rows = bundled("instances.yaml")["instances"]
    return {
        name: InstanceType(
            name=name,
            vcpu=int(row["vcpu"]),
            memory_mib=round(float(row["memory_gib"]) * 1024),
            gpus=int(row["gpus"]),
            gpu_model=row["gpu_model"],
            max_pods=int(row["max_pods"]),
        )
        for name, row in rows.items()
    }


def catalog_date() -> str:
    from dsenv.offline.data import bundled

    return str(bundled("instances.yaml")["date"])


def lookup(name: str) -> InstanceType | None:
    return catalog().get(name)


def did_you_mean(name: str) -> str | None:
    guess = difflib.get_close_matches(name, list(catalog()), n=1, cutoff=0.6)
    return guess[0] if guess else None


@dataclass(frozen=True)
class NodeDaemon:
    """A pod dsenv runs on every node (or every GPU node) of the cluster, and its requests.

    `configured`: dsenv writes these requests into the add-on's configuration or the chart's
    values (stacks/components/cluster.py), so the requests are the program's. Otherwise the
    add-on does not let them be set and these are its published defaults."""

    name: str
    cpu_millis: int
    memory_mib: int
    gpu_nodes_only: bool = False
    configured: bool = False

    def requests(self) -> dict[str, str]:
        out = {"cpu": f"{self.cpu_millis}m"}
        if self.memory_mib:
            out["memory"] = f"{self.memory_mib}Mi"
        return out


#: vpc-cni's aws-node (upstream manifest aws-k8s-cni.yaml requests cpu 25m; dsenv sets it),
#: with the network policy agent beside it (no requests upstream).
VPC_CNI = NodeDaemon("vpc-cni", 25, 0, configured=True)
#: kube-proxy (the EKS add-on's request is cpu 100m; dsenv sets it).
KUBE_PROXY = NodeDaemon("kube-proxy", 100, 0, configured=True)
#: the EBS CSI node plugin: three containers of 10m / 40Mi (aws-ebs-csi-driver chart
#: `node.resources` and its sidecars); the add-on's schema does not expose them.
EBS_CSI_NODE = NodeDaemon("aws-ebs-csi-driver node", 30, 120)
#: the pod identity agent: its add-on publishes no requests; dsenv reserves this much.
POD_IDENTITY_AGENT = NodeDaemon("eks-pod-identity-agent", 25, 64)
#: NVIDIA's device plugin on GPU nodes (its chart has no default requests; dsenv sets these).
NVIDIA_DEVICE_PLUGIN = NodeDaemon(
    "nvidia-device-plugin", 50, 64, gpu_nodes_only=True, configured=True
)
NODE_DAEMONS = (VPC_CNI, KUBE_PROXY, EBS_CSI_NODE, POD_IDENTITY_AGENT, NVIDIA_DEVICE_PLUGIN)


def node_daemons(gpu_node: bool) -> tuple[NodeDaemon, ...]:
    return tuple(d for d in NODE_DAEMONS if gpu_node or not d.gpu_nodes_only)


def kube_reserved_cpu_millis(vcpu: int) -> int:
    total = vcpu * 1000
    ranges = (*_CPU_RANGES, total)
    reserved = 0
    for i, points in enumerate(_CPU_BASIS_POINTS):
        start, end = ranges[i], ranges[i + 1]
        if total > start:
            reserved += (min(total, end) - start) * points // 10000
    return reserved


@dataclass(frozen=True)
class Allocatable:
    """What the kubelet offers pods on one node, and what is left for one workspace after
    dsenv's node daemons."""

    instance: InstanceType
    cpu_millis: int  # node allocatable
    memory_mib: int
    daemons: tuple[NodeDaemon, ...]

    @property
    def free_cpu_millis(self) -> int:
        return self.cpu_millis - sum(d.cpu_millis for d in self.daemons)

    @property
    def free_memory_mib(self) -> int:
        return self.memory_mib - sum(d.memory_mib for d in self.daemons)


def allocatable(instance: InstanceType, daemons: Iterable[NodeDaemon] | None = None) -> Allocatable:
    capacity_mib = math.floor(instance.memory_mib * (1 - VM_MEMORY_OVERHEAD))
    reserved_mib = (
        KUBE_RESERVED_MEMORY_BASE_MIB + KUBE_RESERVED_MEMORY_PER_POD_MIB * instance.max_pods
    )
    return Allocatable(
        instance=instance,
        cpu_millis=instance.vcpu * 1000 - kube_reserved_cpu_millis(instance.vcpu),
        memory_mib=capacity_mib - reserved_mib - EVICTION_HARD_MEMORY_MIB,
        daemons=tuple(daemons if daemons is not None else node_daemons(instance.gpus > 0)),
    )


def fits(free: Allocatable, cpu_millis: int, memory_bytes: int, gpus: int) -> bool:
    return (
        cpu_millis <= free.free_cpu_millis
        and memory_bytes <= free.free_memory_mib * MIB
        and gpus <= free.instance.gpus
    )


def smallest_fitting(
    cpu_millis: int,
    memory_bytes: int,
    gpus: int,
    allowed: Iterable[str] | None = None,
    prefer_family: str | None = None,
) -> InstanceType | None:
    """The smallest catalog instance type (by vCPU, then memory, then GPUs) one workspace of
    this size fits, among the allowed patterns; one of `prefer_family` first."""
    patterns = list(allowed) if allowed is not None else None
    candidates = [
        t
        for t in catalog().values()
        if (patterns is None or any(fnmatch.fnmatchcase(t.name, p) for p in patterns))
        and "metal" not in t.name
        and fits(allocatable(t), cpu_millis, memory_bytes, gpus)
    ]
    if not candidates:
        return None
    same = [t for t in candidates if t.family == prefer_family]
    return min(same or candidates, key=lambda t: (t.vcpu, t.memory_mib, t.gpus, t.name))


def cpu_text(millis: int) -> str:
    return f"{millis / 1000:g}" if millis % 100 == 0 else f"{millis}m"


def memory_text(mib: int) -> str:
    return f"{mib}Mi"
