"""`dsenv cost`: a monthly estimate per capability from the resource graph and a price table.

Two figures per resource: *idle* (node groups at their minimum size, plus everything that
runs whether used or not: the EKS control plane, NAT gateways, MSK brokers, storage) and
*peak* (node groups at their maximum size, pay-per-use services at their maximum capacity
all month). Storage that dsenv cannot know (S3 and ECR contents) uses the assumptions stated
in the price table. A third figure, *scheduled*, is the compute the team's scheduled jobs,
Spark jobs and workflows use: runs a month x the run's duration (its timeout, an upper
bound) x one node of the tier a pod runs on (a node group scales up for it). It is shown
apart, not added to idle or peak: the node groups it runs on are already in peak. Prices: `dsenv/data/prices.yaml` (it names its region and date), with a
user file (`--prices`) merged over it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsenv import regions
from dsenv.capabilities import order as capability_order
from dsenv.errors import UsageError
from dsenv.offline.data import bundled, check_like, deep_update, read_user_table
from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.spec.model import EnvironmentSpec


def price_table(user_file: Path | None = None) -> dict[str, Any]:
    """The bundled price table, with `user_file` merged over it. A user table must have the
    bundled table's shape (`check_like`): a typo or a text where a price goes is an error
    naming the key, exit 2, not a crash halfway through the estimate."""
    table = bundled("prices.yaml")
    if user_file is None:
        return dict(table)
    user = read_user_table(user_file)
    check_like(user, table, str(user_file))
    return deep_update(table, user)


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|K|M|G|T|P|GB|GiB|TB)?$")
_GIB = {
    None: 1 / 2**30,
    "Ki": 1 / 2**20,
    "Mi": 1 / 1024,
    "Gi": 1,
    "GiB": 1,
    "Ti": 1024,
    "Pi": 2**20,
    "K": 1e3 / 2**30,
    "M": 1e6 / 2**30,
    "G": 1e9 / 2**30,
    "GB": 1e9 / 2**30,
    "T": 1e12 / 2**30,
    "TB": 1e12 / 2**30,
    "P": 1e15 / 2**30,
}


def _count(value: Any, unit: str) -> float:
    """`"204 vCPU"` -> 204.0 (EMR Serverless capacities: a number, a space, its unit)."""
    text = str(value or "0").strip()
    m = re.fullmatch(rf"([0-9]+(?:\.[0-9]+)?)\s*(?:{unit})?", text, flags=re.IGNORECASE)
    if not m:
        raise UsageError(f"cannot read the capacity {text!r}: expected a number of {unit}")
    return float(m.group(1))


def gib(quantity: Any) -> float:
    """A Kubernetes quantity ("100Gi", "500G") or an AWS size in GiB, as GiB."""
    if isinstance(quantity, int | float):
        return float(quantity)
    m = _QUANTITY.match(str(quantity).strip())
    if not m:
        return 0.0
    return float(m.group(1)) * _GIB[m.group(2)]


@dataclass(frozen=True)
class CostLine:
    capability: str
    resource: str  # "type name"
    item: str  # what was priced, with the arithmetic's inputs
    idle: float
    peak: float
    scheduled: float = 0.0  # runs a month x duration on the tier (pipelines)


@dataclass
class CostReport:
    lines: list[CostLine]
    region: str
    date: str
    budget: float | None
    org_cap: float | None
    warnings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)

    @property
    def idle(self) -> float:
        return round(sum(line.idle for line in self.lines), 2)

    @property
    def peak(self) -> float:
        return round(sum(line.peak for line in self.lines), 2)

    @property
    def scheduled(self) -> float:
        return round(sum(line.scheduled for line in self.lines), 2)

    def by_capability(self) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        for line in self.lines:
            idle, peak = out.get(line.capability, (0.0, 0.0))
            out[line.capability] = (idle + line.idle, peak + line.peak)
        return {
            k: (round(v[0], 2), round(v[1], 2))
            for k, v in sorted(out.items(), key=lambda kv: capability_order(kv[0]))
        }

    def over(self, basis: str) -> list[str]:
        """Which limits the `basis` ("idle" or "peak") estimate exceeds."""
        value = self.peak if basis == "peak" else self.idle
        out = []
        if self.budget is not None and value > self.budget:
            out.append(
                f"{basis} estimate ${value:,.2f} exceeds the team budget ${self.budget:,.2f}"
            )
        if self.org_cap is not None and value > self.org_cap:
            out.append(f"{basis} estimate ${value:,.2f} exceeds the org cap ${self.org_cap:,.2f}")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": 1,
            "kind": "dsenv-cost",
            "currency": "USD",
            "prices": {"region": self.region, "date": self.date},
            "monthly": {"idle": self.idle, "peak": self.peak, "scheduled": self.scheduled},
            "by_capability": {
                k: {"idle": v[0], "peak": v[1]} for k, v in self.by_capability().items()
            },
            "budget": {"team_monthly_usd": self.budget, "org_max_monthly_usd": self.org_cap},
            "lines": [dict(line.__dict__) for line in self.lines],
            "assumptions": self.assumptions,
            "warnings": self.warnings,
        }


class _Pricer:
    def __init__(self, prices: dict[str, Any], spec: EnvironmentSpec | None) -> None:
        self.p = prices
        self.hours = float(prices["hours_per_month"])
        self.spec = spec
        self.lines: list[CostLine] = []
        self.warnings: list[str] = []

    def add(self, r: Resource, item: str, idle: float, peak: float, scheduled: float = 0) -> None:
        self.lines.append(
            CostLine(
                r.capability,
                f"{r.type} {r.name}",
                item,
                round(idle, 2),
                round(peak, 2),
                round(scheduled, 2),
            )
        )

    def tier_hour(self, tier: str) -> tuple[float, str]:
        """What an hour of one node of `tier` costs, and how it was priced."""
        spec = self.spec
        pool = next((p for p in spec.node_pools if p.tier == tier), None) if spec else None
        if pool is None or not pool.instance_types:
            return 0.0, f"tier {tier} (the cluster's own nodes, not priced)"
        kind = pool.instance_types[0]
        spot = pool.capacity_type == "SPOT"
        row = self.p["instances"].get(kind)
        if row is None:
            self.warnings.append(f"no price for instance type {kind} (tier {tier}); counted as 0")
            return 0.0, f"tier {tier} {kind}"
        rate = float(row["spot" if spot else "on_demand"])
        return rate, f"tier {tier} {kind} {'spot' if spot else 'on-demand'} {rate}/h"

    def pipelines(self, r: Resource) -> None:
        """Scheduled compute of a CronJob, a scheduled workflow or a scheduled Spark job."""
        spec = self.spec.pipelines if self.spec else None
        if spec is None:
            return
        name = str((r.inputs.get("metadata") or {}).get("name") or r.inputs.get("name") or "")
        t = r.type
        if t == "kubernetes:batch/v1:CronJob":
            job = next((j for j in spec.jobs if j.name == name), None)
            if job is None or not job.schedule:
                return
            hours = job.pod.timeout_seconds / 3600
            rate, how = self.tier_hour(job.pod.pool.tier)
            cost = job.runs_per_month * hours * rate
            self.add(r, f"{job.runs_per_month:.1f} runs x {hours:g} h on {how}", 0, 0, cost)
        elif t.endswith(":WorkflowTemplate"):
            flow = next((w for w in spec.workflows if w.name == name), None)
            if flow is None or not flow.schedule:
                return
            cost, parts = 0.0, []
            for step in flow.steps:
                hours = step.pod.timeout_seconds / 3600
                rate, how = self.tier_hour(step.pod.pool.tier)
                cost += flow.runs_per_month * hours * rate
                parts.append(f"{step.pod.name} {hours:g} h on {how}")
            self.add(r, f"{flow.runs_per_month:.1f} runs x ({'; '.join(parts)})", 0, 0, cost)
        elif t.endswith(":ScheduledSparkApplication") or t == "aws:scheduler/schedule:Schedule":
            sjob = next((s for s in spec.spark_jobs if s.name == name), None)
            spark = self.spec.spark if self.spec else None
            if sjob is None or spark is None:
                return
            hours = sjob.timeout_seconds / 3600
            if spark.engine == "emr-serverless":  # pay per use: vCPU- and GB-hours
                rates = self.p["emr_serverless"]
                pools = [spark.driver] + [spark.executor] * sjob.executors
                vcpu = sum(p.cpu_millis for p in pools) / 1000
                mem = sum(p.memory_bytes for p in pools) / 2**30
                hourly = vcpu * rates["vcpu_hour"] + mem * rates["gb_hour"]
                cost = sjob.runs_per_month * hours * hourly
                self.add(
                    r,
                    f"{sjob.runs_per_month:.1f} runs x {hours:g} h x EMR Serverless "
                    f"{vcpu:g} vCPU + {mem:g} GB",
                    0,
                    0,
                    cost,
                )
                return
            driver, dhow = self.tier_hour(spark.driver.tier)
            executor, ehow = self.tier_hour(spark.executor.tier)
            cost = sjob.runs_per_month * hours * (driver + sjob.executors * executor)
            self.add(
                r,
                f"{sjob.runs_per_month:.1f} runs x {hours:g} h x (driver on {dhow} + "
                f"{sjob.executors} executors on {ehow})",
                0,
                0,
                cost,
            )

    def resource(self, r: Resource) -> None:
        p, h, t, inp = self.p, self.hours, r.type, r.inputs
        if t == "aws:eks/cluster:Cluster":
            self.add(
                r,
                f"EKS control plane {p['eks_cluster_hour']}/h x {h:g} h",
                p["eks_cluster_hour"] * h,
                p["eks_cluster_hour"] * h,
            )
        elif t == "aws:ec2/natGateway:NatGateway":
            self.add(
                r,
                f"NAT gateway {p['nat_gateway_hour']}/h x {h:g} h",
                p["nat_gateway_hour"] * h,
                p["nat_gateway_hour"] * h,
            )
        elif t == "aws:eks/nodeGroup:NodeGroup":
            self.node_group(r)
        elif t in (
            "kubernetes:batch/v1:CronJob",
            "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate",
            "kubernetes:sparkoperator.k8s.io/v1beta2:ScheduledSparkApplication",
            "aws:scheduler/schedule:Schedule",
        ):
            self.pipelines(r)
        elif t == "aws:msk/cluster:Cluster":
            brokers = int(inp.get("numberOfBrokerNodes") or 0)
            info = inp.get("brokerNodeGroupInfo") or {}
            kind = str(info.get("instanceType"))
            rate = p["msk"]["brokers"].get(kind)
            if rate is None:
                raise UsageError(
                    f"no price for MSK broker type {kind} ({r.name}) in the {p.get('region')} "
                    f"price table: pass --prices with msk.brokers.{kind}"
                )
            size = gib(
                ((info.get("storageInfo") or {}).get("ebsStorageInfo") or {}).get("volumeSize") or 0
            )
            cost = brokers * (rate * h + size * p["msk"]["storage_gib_month"])
            self.add(r, f"{brokers} x {kind} ({rate}/h) + {brokers} x {size:g} GiB", cost, cost)
        elif t == "aws:msk/serverlessCluster:ServerlessCluster":
            cost = p["msk"]["serverless_cluster_hour"] * h
            self.add(r, "MSK Serverless cluster-hours (partitions extra)", cost, cost)
        elif t in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            size = p["s3"]["assumed_gib_per_bucket"]
            self.add(
                r,
                f"S3 {size} GiB assumed",
                size * p["s3"]["gib_month"],
                size * p["s3"]["gib_month"],
            )
        elif t == "aws:ecr/repository:Repository":
            size = p["ecr"]["assumed_gib_per_repository"]
            self.add(
                r,
                f"ECR {size} GiB assumed",
                size * p["ecr"]["gib_month"],
                size * p["ecr"]["gib_month"],
            )
        elif t == "aws:kms/key:Key":
            self.add(r, "KMS key", p["kms_key_month"], p["kms_key_month"])
        elif t == "aws:emrserverless/application:Application":
            # EMR Serverless writes capacities as "204 vCPU" and "816 GB" (numbers of vCPUs
            # and of GB), never as Kubernetes quantities
            cap = inp.get("maximumCapacity") or {}
            vcpu, mem = _count(cap.get("cpu"), "vCPU"), _count(cap.get("memory"), "GB")
            peak = (
                vcpu * p["emr_serverless"]["vcpu_hour"] + mem * p["emr_serverless"]["gb_hour"]
            ) * h
            self.add(
                r,
                f"EMR Serverless max {vcpu:g} vCPU + {mem:g} GB all month (pay per use)",
                0.0,
                peak,
            )
        elif t.startswith("kubernetes:kafka.strimzi.io/") and t.endswith(":KafkaNodePool"):
            spec = inp.get("spec") or {}
            replicas = int(spec.get("replicas") or 0)
            storage = spec.get("storage") or {}
            volumes = storage.get("volumes") if storage.get("type") == "jbod" else [storage]
            size = sum(
                gib(v.get("size")) for v in volumes or [] if v.get("type") == "persistent-claim"
            )
            cost = replicas * size * p["ebs_gp3_gib_month"]
            self.add(r, f"{replicas} brokers x {size:g} GiB gp3", cost, cost)
        elif t == "kubernetes:core/v1:PersistentVolumeClaim":
            size = gib(
                ((inp.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")
            )
            self.add(
                r, f"{size:g} GiB gp3", size * p["ebs_gp3_gib_month"], size * p["ebs_gp3_gib_month"]
            )
        elif (
            t.startswith("kubernetes:helm.sh/")
            and self.spec
            and self.spec.workspaces
            and str(inp.get("chart", "")).endswith(self.spec.workspaces.chart.name)
        ):
            users = sorted({m for members in self.spec.workspaces.groups.values() for m in members})
            size = gib(self.spec.workspaces.storage)
            cost = len(users) * size * p["ebs_gp3_gib_month"]
            self.add(r, f"{len(users)} users x {size:g} GiB home volumes gp3", cost, cost)

    def node_group(self, r: Resource) -> None:
        inp, p, h = r.inputs, self.p, self.hours
        types = inp.get("instanceTypes") or []
        kind = str(types[0]) if types else "?"
        spot = inp.get("capacityType") == "SPOT"
        row = p["instances"].get(kind)
        if row is None:
            raise UsageError(
                f"no price for instance type {kind} ({r.name}) in the {p.get('region')} price "
                f"table of {p.get('date')}: pass --prices with instances.{kind} (on_demand, spot)"
            )
        rate = float(row["spot" if spot else "on_demand"])
        from dsenv.spec import fit

        node = fit.lookup(kind)
        if node is not None and node.gpus:
            kind = f"{kind} ({node.gpus} x {node.gpu_model or 'GPU'} a node)"
        scaling = inp.get("scalingConfig") or {}
        low, high = int(scaling.get("minSize") or 0), int(scaling.get("maxSize") or 0)
        disk = float(inp.get("diskSize") or 20)  # the EKS default root volume
        per_node = rate * h + disk * p["ebs_gp3_gib_month"]
        label = (
            f"{kind} {'spot' if spot else 'on-demand'} {rate}/h + {disk:g} GiB, {low}..{high} nodes"
        )
        self.add(r, label, low * per_node, high * per_node)


def estimate(
    graph: ResourceGraph, spec: EnvironmentSpec | None, prices: dict[str, Any]
) -> CostReport:
    pricer = _Pricer(prices, spec)
    for r in graph:
        if r.custom:
            pricer.resource(r)
    region = spec.aws.region if spec is not None and spec.aws is not None else None
    if region is not None and region not in regions.priced(prices):
        # prices differ by region (us-east-1 is cheaper than eu-west-1): say which were used
        pricer.warnings.insert(
            0,
            f"no price table for {region}: priced with the {prices.get('region')} table of "
            f"{prices.get('date')}; pass --prices with {region}'s prices for a real estimate",
        )
    return CostReport(
        lines=pricer.lines,
        region=str(prices.get("region")),
        date=str(prices.get("date")),
        budget=spec.budget_monthly_usd if spec else None,
        org_cap=spec.org_max_monthly_usd if spec else None,
        warnings=pricer.warnings,
        assumptions=[
            f"prices for {prices.get('region')} as of {prices.get('date')}, {prices['hours_per_month']} h/month",
            f"S3: {prices['s3']['assumed_gib_per_bucket']} GiB per bucket; ECR: {prices['ecr']['assumed_gib_per_repository']} GiB per repository",
            "data transfer, NAT data processing and request charges are not included",
            "scheduled: runs a month x each run's timeout (an upper bound) x one node of its "
            "tier; apart from idle and peak (EMR on EKS's per-vCPU charge not included)",
        ],
    )


def render_text(report: CostReport) -> str:
    lines = [
        f"dsenv cost: monthly estimate, USD (prices: {report.region}, {report.date})",
        "",
        f"{'capability':<14} {'idle':>12} {'peak':>12}",
    ]
    for cap, (idle, peak) in report.by_capability().items():
        lines.append(f"{cap:<14} {idle:>12,.2f} {peak:>12,.2f}")
    lines.append(f"{'total':<14} {report.idle:>12,.2f} {report.peak:>12,.2f}")
    if report.scheduled:
        lines.append(f"{'scheduled':<14} {report.scheduled:>12,.2f}   (pipelines runs, apart)")
    lines.append("")
    if report.budget is not None:
        lines.append(f"team budget   {report.budget:>12,.2f}")
    if report.org_cap is not None:
        lines.append(f"org cap       {report.org_cap:>12,.2f}")
    lines += [f"note: {a}" for a in report.assumptions]
    lines += [f"warning: {w}" for w in report.warnings]
    return "\n".join(lines) + "\n"


def render_markdown(report: CostReport) -> str:
    out = [
        f"### dsenv cost (USD/month, prices {report.region}, {report.date})",
        "",
        "| capability | idle | peak |",
        "|---|---:|---:|",
    ]
    out += [f"| {c} | {i:,.2f} | {p:,.2f} |" for c, (i, p) in report.by_capability().items()]
    out.append(f"| **total** | **{report.idle:,.2f}** | **{report.peak:,.2f}** |")
    out.append("")
    if report.scheduled:
        out.append(
            f"Scheduled compute (pipelines, apart from the always-on figures): "
            f"{report.scheduled:,.2f}.\n"
        )
    if report.budget is not None:
        out.append(f"Team budget: {report.budget:,.2f}. ")
    if report.org_cap is not None:
        out.append(f"Org cap: {report.org_cap:,.2f}.")
    out += ["", *[f"- {a}" for a in report.assumptions], ""]
    for warning in report.warnings:
        out += ["> [!WARNING]", f"> {warning}", ""]
    return "\n".join(out)
