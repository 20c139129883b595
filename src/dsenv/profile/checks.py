"""Checks that need the whole team: cross-references, engine requirements, org constraints."""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from dsenv.errors import Problem
from dsenv.profile.model import AWS_TIER_KEYS, KUBERNETES_TIER_KEYS, Team, Tier
from dsenv.profile.problems import Locator
from dsenv.profile.types import DNS_SUBDOMAIN_RE, parse_bytes, parse_millicpu
from dsenv.spec import fit
from dsenv.spec.names import names_for
from dsenv.spec.names import problems as name_problems

if TYPE_CHECKING:
    from dsenv.profile.load import OrgLimits


def check_team(team: Team, limits: tuple[OrgLimits, ...], loc: Locator) -> list[Problem]:
    problems = [loc.problem(path, message) for path, message in _references(team)]
    problems += [loc.problem(path, message) for path, message in _engines(team)]
    problems += [loc.problem(path, message) for path, message in _bounds(team)]
    problems += [loc.problem(path, message) for path, message in _hub_auth(team)]
    problems += [loc.problem(path, message) for path, message in _hub_host(team)]
    problems += [
        loc.problem(path, message, at_key=at_key)
        for path, message, at_key in _target_keys(team, lambda path: path in loc.index)
    ]
    problems += [loc.problem(path, message) for path, message in _storage(team)]
    problems += [loc.problem(path, message) for path, message in _pipelines(team)]
    problems += [
        loc.problem(path, message, at_key=path == ("tiers", path[-1]))
        for path, message in _instances(team, limits)
    ]
    for limit in limits:
        problems += [loc.problem(path, message) for path, message in _constraints(team, limit)]
    problems += [
        loc.problem(path, message, at_key=at_key)
        for path, message, at_key in name_problems(names_for(team))
    ]
    return problems


Finding = tuple[tuple[str | int, ...], str]


def _references(team: Team) -> Iterator[Finding]:
    tiers = set(team.tiers)
    known = ", ".join(sorted(tiers))

    def tier(path: tuple[str | int, ...], name: str | None) -> Iterator[Finding]:
        if name is not None and name not in tiers:
            yield path, f"tier {name!r} is not defined; tiers are: {known}"

    if team.workspaces:
        yield from tier(("workspaces", "default_tier"), team.workspaces.default_tier)
    for group_name, group in team.groups.items():
        for i, name in enumerate(group.tiers):
            yield from tier(("groups", group_name, "tiers", i), name)
    if team.spark:
        yield from tier(("spark", "driver_tier"), team.spark.driver_tier)
        yield from tier(("spark", "executor_tier"), team.spark.executor_tier)
    if team.ci_runners:
        yield from tier(("ci_runners", "tier"), team.ci_runners.tier)
    if team.serving:
        yield from tier(("serving", "tier"), team.serving.tier)
        for i, model in enumerate(team.serving.models):
            yield from tier(("serving", "models", i, "tier"), model.tier)
        yield from _unique(("serving", "models"), [m.name for m in team.serving.models], "model")
    if team.kafka:
        topics = [t.name for t in team.kafka.topics]
        yield from _unique(("kafka", "topics"), topics, "topic")
        yield from _unique(("kafka", "users"), [u.name for u in team.kafka.users], "user")
        yield from tier(("kafka", "tier"), team.kafka.tier)
        from dsenv.spec.names import KAFKA_WORKSPACE_USER

        for i, user in enumerate(team.kafka.users):
            if team.workspaces and user.name == KAFKA_WORKSPACE_USER:
                yield (
                    ("kafka", "users", i, "name"),
                    f"user {KAFKA_WORKSPACE_USER!r} is the one dsenv creates for the workspaces",
                )
        for i, user in enumerate(team.kafka.users):
            for j, topic in enumerate(user.topics):
                if topic not in topics:
                    yield (
                        ("kafka", "users", i, "topics", j),
                        f"topic {topic!r} is not declared in kafka.topics",
                    )
    if "rstudio" in team.tools and team.languages.r is None:
        yield ("tools",), "rstudio needs languages.r"


def _unique(path: tuple[str | int, ...], names: list[str], what: str) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            yield (*path, i, "name"), f"{what} {name!r} is declared twice"
        seen.add(name)


def _engines(team: Team) -> Iterator[Finding]:
    target = team.target
    if target.provider == "aws" and not target.region:
        yield ("target", "provider"), "target aws needs target.region"
    if target.provider == "kubernetes" and target.public_access_cidrs:
        yield ("target", "public_access_cidrs"), "only target aws creates a cluster endpoint"
    if target.provider == "kubernetes" and target.admins:
        yield ("target", "admins"), "only target aws creates EKS access entries"
    if target.endpoint == "public" and not target.public_access_cidrs:
        yield (
            ("target", "endpoint"),
            "endpoint public needs target.public_access_cidrs: the CIDRs of the people and CI "
            "that run dsenv up",
        )
    if target.endpoint == "private" and target.public_access_cidrs:
        yield (
            ("target", "public_access_cidrs"),
            "endpoint private takes no public_access_cidrs (drop them, or use endpoint public)",
        )
    for owner in team.owner_arns:
        if owner not in team.owners:
            yield (
                ("owner_arns", owner),
                f"{owner} is not one of the owners ({', '.join(team.owners) or 'none'})",
            )
    if team.spark and team.spark.engine != "operator" and target.provider != "aws":
        yield (
            ("spark", "engine"),
            f"engine {team.spark.engine} needs target aws; use engine operator",
        )
    if team.kafka and team.kafka.engine != "strimzi" and target.provider != "aws":
        yield (
            ("kafka", "engine"),
            f"engine {team.kafka.engine} needs target aws; use engine strimzi",
        )
    if team.kafka and team.kafka.engine == "msk":
        zones = target.availability_zones
        if team.kafka.brokers % zones:
            # MSK spreads brokers evenly over the client subnets, one per zone
            yield (
                ("kafka", "brokers"),
                f"MSK over {zones} zones (target.availability_zones) needs a multiple of "
                f"{zones} brokers",
            )
    if team.kafka and team.kafka.engine != "strimzi":
        # MSK has no API for topics or users: dsenv would have to drop them silently
        for i, _ in enumerate(team.kafka.topics):
            yield (
                ("kafka", "topics", i),
                f"engine {team.kafka.engine} cannot create topics (MSK has no topic API, and "
                "auto-creation is off): remove it and create it from a workspace, whose role "
                "may create topics on the team cluster",
            )
        for i, _ in enumerate(team.kafka.users):
            yield (
                ("kafka", "users", i),
                f"engine {team.kafka.engine} authenticates IAM roles, not users: remove it; "
                "workspaces and Spark connect with their own roles",
            )
    if team.serving:
        for i, m in enumerate(team.serving.models):
            if m.min_replicas == 0:
                # RawDeployment runs a Deployment and an HPA, which cannot scale to zero
                yield (
                    ("serving", "models", i, "min_replicas"),
                    "min_replicas 0 needs scale to zero, which KServe's RawDeployment mode "
                    "(plain Deployment and HorizontalPodAutoscaler) does not do; use 1 or more",
                )
    if team.spark and team.spark.engine == "operator":
        from dsenv.profile.types import parse_bytes
        from dsenv.spec.spark import MIN_HEAP_MIB, MIN_OVERHEAD_MIB, PYSPARK_OVERHEAD_FACTOR

        need = max(
            MIN_HEAP_MIB + MIN_OVERHEAD_MIB, math.ceil(MIN_HEAP_MIB * (1 + PYSPARK_OVERHEAD_FACTOR))
        )
        for key in ("driver_tier", "executor_tier"):
            tier = team.tiers.get(getattr(team.spark, key))
            if tier is not None and parse_bytes(tier.memory) < need * 2**20:
                yield (
                    ("spark", key),
                    f"a Spark pod needs at least {need}Mi ({MIN_HEAP_MIB}Mi heap and Spark's "
                    f"{MIN_OVERHEAD_MIB}Mi minimum overhead); tier {getattr(team.spark, key)} has {tier.memory}",
                )


_OIDC_ENDPOINTS = {
    "authorize_url": "authorization_endpoint",
    "token_url": "token_endpoint",
    "userdata_url": "userinfo_endpoint",
}


def _hub_host(team: Team) -> Iterator[Finding]:
    """Target aws: a hub host needs the Route 53 zone that holds it."""
    ws = team.workspaces
    if ws is None or team.target.provider != "aws":
        if ws is not None and ws.dns_zone is not None:
            yield ("workspaces", "dns_zone"), "dns_zone applies to target aws only"
        return
    if ws.host is not None and ws.dns_zone is None:
        yield (
            ("workspaces", "host"),
            "a hub host on target aws needs workspaces.dns_zone: the public Route 53 hosted "
            "zone that holds it (the certificate is validated and the record kept there)",
        )
    elif (
        ws.host is not None
        and ws.dns_zone is not None
        and ws.host != ws.dns_zone
        and not ws.host.endswith(f".{ws.dns_zone}")
    ):
        yield (
            ("workspaces", "host"),
            f"host {ws.host} is not in the zone {ws.dns_zone} (workspaces.dns_zone)",
        )


def _hub_auth(team: Team) -> Iterator[Finding]:
    """Provider-specific requirements of `workspaces.auth`, each at the value to fix."""
    ws = team.workspaces
    if ws is None or ws.auth is None:
        return
    auth = ws.auth
    at = ("workspaces", "auth")
    if auth.provider == "github":
        if not auth.organization:
            yield (*at, "provider"), "provider github needs workspaces.auth.organization"
        for key in ("issuer", *_OIDC_ENDPOINTS, "groups_claim"):
            if getattr(auth, key) is not None:
                yield (*at, key), f"{key} applies to provider oidc only"
    else:
        if auth.organization is not None:
            yield (*at, "organization"), "organization applies to provider github only"
        if not auth.issuer:
            yield (*at, "provider"), "provider oidc needs workspaces.auth.issuer"
        for key, published in _OIDC_ENDPOINTS.items():
            if getattr(auth, key) is None:
                yield (
                    (*at, "provider"),
                    f"provider oidc needs workspaces.auth.{key}: the {published} in "
                    f"{(auth.issuer or '<issuer>').rstrip('/')}/.well-known/openid-configuration",
                )


#: Target keys that only target kubernetes reads (target aws has its own registry, ECR, and
#: buckets, S3 through IRSA).
_KUBERNETES_TARGET_KEYS = ("registry", "image_pull_secret", "object_storage")


def _target_keys(
    team: Team, present: Callable[[tuple[str | int, ...]], bool]
) -> Iterator[tuple[tuple[str | int, ...], str, bool]]:
    """Keys written for the other target, each at the key, and what the target needs.

    Where a tier's pods run is the target's: on aws, node groups dsenv creates from EC2
    instance types (and labels and taints of its own); on kubernetes, the cluster's nodes,
    picked by the admin's labels and taints."""
    aws = team.target.provider == "aws"
    if aws:
        for key in _KUBERNETES_TARGET_KEYS:
            if present(("target", key)):
                yield (
                    ("target", key),
                    f"{key} belongs to target kubernetes; target aws pushes the team "
                    "image to the ECR repository and keeps artifacts in the S3 buckets it creates",
                    True,
                )
    for name, tier in team.tiers.items():
        at = ("tiers", name)
        if aws and not tier.instance_types and not present((*at, "instance_types")):
            yield at, f"target aws needs tiers.{name}.instance_types (EC2 types)", True
        foreign = KUBERNETES_TIER_KEYS if aws else AWS_TIER_KEYS
        for key in foreign:
            if not present((*at, key)):
                continue
            if aws:
                message = (
                    f"{key} belongs to target kubernetes (the nodes of an existing cluster); "
                    "target aws places tiers on the node groups it creates from instance_types, "
                    "with labels and taints of its own"
                )
            else:
                message = (
                    f"{key} belongs to target aws (the EC2 node groups dsenv creates there); "
                    "on target kubernetes, say where the tier's pods run with node_selector and "
                    "tolerations, and size the team's quota with max_pods"
                )
            yield (*at, key), message, True


def _storage(team: Team) -> Iterator[Finding]:
    """Model URIs the target can read."""
    if team.serving is None:
        return
    for i, model in enumerate(team.serving.models):
        at = ("serving", "models", i, "storage_uri")
        scheme, _, rest = model.storage_uri.partition("://")
        if scheme == "pvc":
            claim, _, path = rest.partition("/")
            if not DNS_SUBDOMAIN_RE.match(claim) or len(claim) > 253 or not path:
                yield (
                    at,
                    (
                        f"{model.storage_uri!r} is not a pvc:// model URI: write "
                        "pvc://<claim>/<path>, the claim a PersistentVolumeClaim in the team namespace"
                    ),
                )
        elif (
            scheme == "s3"
            and team.target.provider == "kubernetes"
            and team.target.object_storage is None
        ):
            yield (
                at,
                (
                    "an s3:// model on target kubernetes needs target.object_storage (the S3 "
                    "endpoint and the name of its credentials secret)"
                ),
            )


def _pipelines(team: Team) -> Iterator[Finding]:
    """Tiers, groups, steps and time zones the pipelines section refers to."""
    p = team.pipelines
    if p is None:
        return
    from dsenv.profile.model import MAX_TIMEOUT_SECONDS
    from dsenv.profile.types import parse_seconds

    at = ("pipelines",)
    tiers = ", ".join(sorted(team.tiers))
    groups = set(team.groups)
    for key in ("submitters", "viewers"):
        for i, group in enumerate(getattr(p, key)):
            if group not in groups:
                known = ", ".join(sorted(groups)) or "none are declared"
                yield (*at, key, i), f"group {group!r} is not defined; groups: {known}"

    def tier(path: tuple[str | int, ...], name: str) -> Iterator[Finding]:
        if name not in team.tiers:
            yield path, f"tier {name!r} is not defined; tiers are: {tiers}"

    def timed(
        path: tuple[str | int, ...], schedule: str | None, zone: str | None
    ) -> Iterator[Finding]:
        if schedule is not None and zone is None and p.time_zone is None:
            yield (
                (*path, "schedule"),
                "a schedule needs a time zone: set time_zone here or pipelines.time_zone "
                "(an IANA name such as Europe/Berlin or UTC)",
            )
        if schedule is None and zone is not None:
            yield (*path, "time_zone"), "time_zone applies to a schedule; this entry has none"

    def timeout(path: tuple[str | int, ...], text: str) -> Iterator[Finding]:
        if parse_seconds(text) > MAX_TIMEOUT_SECONDS:
            yield (*path, "timeout"), f"timeout {text} is more than a week"

    for i, job in enumerate(p.jobs):
        path = (*at, "jobs", i)
        yield from tier((*path, "tier"), job.tier)
        yield from timed(path, job.schedule, job.time_zone)
        yield from timeout(path, job.timeout)
    yield from _unique((*at, "jobs"), [j.name for j in p.jobs], "job")
    for i, sjob in enumerate(p.spark_jobs):
        path = (*at, "spark_jobs", i)
        yield from timed(path, sjob.schedule, sjob.time_zone)
        yield from timeout(path, sjob.timeout)
        if team.spark is None:
            yield path, "a Spark job needs the spark section (its engine and tiers)"
        elif team.spark.engine != "operator" and _eventbridge_problem(sjob.schedule):
            yield (*path, "schedule"), str(_eventbridge_problem(sjob.schedule))
        elif sjob.executors > team.spark.max_executors:
            yield (
                (*path, "executors"),
                f"{sjob.executors} executors are more than spark.max_executors "
                f"({team.spark.max_executors})",
            )
    yield from _unique((*at, "spark_jobs"), [j.name for j in p.spark_jobs], "Spark job")
    for i, flow in enumerate(p.workflows):
        path = (*at, "workflows", i)
        yield from timed(path, flow.schedule, flow.time_zone)
        names = [step.name for step in flow.steps]
        yield from _unique((*path, "steps"), names, "step")
        for j, step in enumerate(flow.steps):
            spath = (*path, "steps", j)
            yield from tier((*spath, "tier"), step.tier)
            yield from timeout(spath, step.timeout)
            for k, dep in enumerate(step.depends):
                if dep == step.name:
                    yield (*spath, "depends", k), f"step {step.name!r} depends on itself"
                elif dep not in names:
                    yield (
                        (*spath, "depends", k),
                        f"step {dep!r} is not a step of workflow {flow.name!r}; steps: "
                        + ", ".join(names),
                    )
        cycle = _cycle({s.name: [d for d in s.depends if d in names] for s in flow.steps})
        if cycle:
            j = names.index(cycle[0])
            yield (
                (*path, "steps", j, "depends"),
                "the steps depend on each other in a cycle: " + " -> ".join([*cycle, cycle[0]]),
            )
    yield from _unique((*at, "workflows"), [w.name for w in p.workflows], "workflow")


def _eventbridge_problem(schedule: str) -> str | None:
    from dsenv.profile.cron import eventbridge

    try:
        eventbridge(schedule)
    except ValueError as exc:
        return str(exc)
    return None


def _cycle(graph: dict[str, list[str]]) -> list[str]:
    """One dependency cycle of `graph` (step -> the steps it depends on), or []."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for dep in graph.get(node, []):
            if dep == node:
                continue
            if state.get(dep) == 1:
                return path[path.index(dep) :]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def _bounds(team: Team) -> Iterator[Finding]:
    for name, tier in team.tiers.items():
        if team.target.provider == "aws" and tier.min_nodes > tier.max_nodes:
            yield (
                ("tiers", name, "min_nodes"),
                f"min_nodes {tier.min_nodes} is more than max_nodes {tier.max_nodes}",
            )
    if team.ci_runners and team.ci_runners.min_runners > team.ci_runners.max_runners:
        yield ("ci_runners", "min_runners"), "min_runners is more than max_runners"
    if team.serving:
        for i, m in enumerate(team.serving.models):
            if m.min_replicas > m.max_replicas:
                yield (
                    ("serving", "models", i, "min_replicas"),
                    "min_replicas is more than max_replicas",
                )
    if team.kafka:
        for i, topic in enumerate(team.kafka.topics):
            if topic.replicas and topic.replicas > team.kafka.brokers:
                yield (
                    ("kafka", "topics", i, "replicas"),
                    (
                        f"{topic.replicas} replicas need at least as many brokers (have {team.kafka.brokers})"
                    ),
                )


def _constraints(team: Team, limit: OrgLimits) -> Iterator[Finding]:
    c = limit.constraints
    by = f"(constraint of org {limit.org}, {limit.file})"
    if c.allowed_instance_types is not None:
        for name, tier in team.tiers.items():
            for i, itype in enumerate(tier.instance_types):
                if not any(fnmatch.fnmatchcase(itype, p) for p in c.allowed_instance_types):
                    yield (
                        ("tiers", name, "instance_types", i),
                        (
                            f"instance type {itype} is not allowed; allowed: "
                            f"{', '.join(c.allowed_instance_types)} {by}"
                        ),
                    )
    if c.max_gpus_per_team is not None:
        # how many GPUs the team can reach: on aws every GPU of every node (the catalog's GPUs
        # per instance type, whatever a workspace asks for) times max_nodes; on kubernetes the
        # tier's gpus times max_pods
        aws = team.target.provider == "aws"
        count = "max_nodes" if aws else "max_pods"
        per = {
            n: (node_gpus(t) if aws and t.gpus else t.gpus) * getattr(t, count)
            for n, t in team.tiers.items()
        }
        total = sum(per.values())
        if total > c.max_gpus_per_team:
            worst = max((n for n in per if per[n]), key=lambda n: per[n])
            what = "GPUs per node x max_nodes" if aws else "gpus x max_pods"
            yield (
                ("tiers", worst, count),
                (
                    f"the team can reach {total} GPUs ({what} over all tiers); "
                    f"at most {c.max_gpus_per_team} are allowed {by}"
                ),
            )
    for tag in c.required_tags:
        if tag not in team.tags:
            yield ("tags",) if team.tags else ("name",), f"required tag {tag!r} is missing {by}"
    if c.max_monthly_usd is not None:
        if team.budget is None:
            yield (
                ("name",),
                f"a budget is required (at most {c.max_monthly_usd:g} USD a month) {by}",
            )
        elif team.budget.monthly_usd > c.max_monthly_usd:
            yield (
                ("budget", "monthly_usd"),
                (
                    f"budget {team.budget.monthly_usd:g} USD is over the cap of {c.max_monthly_usd:g} USD {by}"
                ),
            )


def node_gpus(tier: Tier) -> int:
    """GPUs one node of an aws tier has: the most of its instance types (from the catalog)."""
    found = [fit.lookup(t) for t in tier.instance_types]
    return max((t.gpus for t in found if t is not None), default=tier.gpus)


def _instances(team: Team, limits: tuple[OrgLimits, ...]) -> Iterator[Finding]:
    """Target aws: every instance type is in the catalog, and one workspace of the tier's size
    (cpu, memory, gpus) fits one node of each of them after the EKS reservations and dsenv's
    node daemons (spec/fit.py)."""
    if team.target.provider != "aws":
        return
    allowed: list[str] | None = None
    for limit in limits:
        if limit.constraints.allowed_instance_types is not None:
            allowed = list(limit.constraints.allowed_instance_types)
    patterns = [
        list(limit.constraints.allowed_instance_types)
        for limit in limits
        if limit.constraints.allowed_instance_types is not None
    ]
    for name, tier in team.tiers.items():
        at = ("tiers", name)
        known: list[fit.InstanceType] = []
        for i, itype in enumerate(tier.instance_types):
            found = fit.lookup(itype)
            if found is None:
                guess = fit.did_you_mean(itype)
                yield (
                    (*at, "instance_types", i),
                    f"instance type {itype} is not in dsenv's instance catalog"
                    + (f"; did you mean {guess}?" if guess else "")
                    + " (add it to the catalog, src/dsenv/data/instances.yaml, with its vCPUs, "
                    "memory, GPUs and max pods)",
                )
            elif all(any(fnmatch.fnmatchcase(itype, p) for p in ps) for ps in patterns):
                known.append(found)  # a type the org refuses is reported as that alone
        if not known:
            continue
        cpu, memory = parse_millicpu(tier.cpu), parse_bytes(tier.memory)
        few = [t for t in known if tier.gpus > t.gpus]
        if few:
            yield (
                (*at, "gpus"),
                f"gpus {tier.gpus} is more than {few[0].name} has ({few[0].gpus}"
                + (f" x {few[0].gpu_model}" if few[0].gpu_model else "")
                + ")",
            )
            continue
        for instance in known:
            node = fit.allocatable(instance)
            if fit.fits(node, cpu, memory, tier.gpus):
                continue
            larger = fit.smallest_fitting(cpu, memory, tier.gpus, allowed, instance.family)
            yield (
                at,
                f"a workspace of cpu {tier.cpu} and memory {tier.memory} does not fit one "
                f"{instance.name} node: after the EKS reservations and dsenv's node daemons it "
                f"offers at most cpu {fit.cpu_text(node.free_cpu_millis)} and memory "
                f"{fit.memory_text(node.free_memory_mib)}"
                + (
                    f"; the smallest listed instance type it fits is {larger.name}"
                    if larger is not None
                    else "; no listed instance type fits it"
                )
                + " (docs/profiles.md#sizing-a-tier)",
            )
            break
