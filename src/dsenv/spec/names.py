"""Every physical name of a team's environment, decided here and nowhere else.

Cloud and Kubernetes names are identities: the engine keys resources by them, two teams must
never share one, and each service caps their length. So each name is built once, from the
profile parts it is made of, and checked against its service's limit when the profile is
validated: a name that would be too long is an error at the profile key that makes it
(`file:line:col`, exit 2), never a truncation. Expansion copies names from `Names` into the
spec; components read them from the spec and never derive or shorten one.

Limits, from each service's API reference:
- S3 bucket 3-63 (S3 "Bucket naming rules"); IAM role 64 (IAM "IAM and AWS STS quotas");
  EKS cluster 100 (CreateCluster `name`), node group 63 (CreateNodegroup `nodegroupName`);
  ECR repository 256 (CreateRepository); MSK cluster 64 (CreateCluster `clusterName`);
  EMR on EKS virtual cluster 64 (CreateVirtualCluster `name`); EMR Serverless application 64
  (CreateApplication `name`); KMS alias 256; CloudWatch log group 512.
- Kubernetes: namespaces and Service names are DNS labels, at most 63; other object names DNS
  subdomains, at most 253; label values at most 63 (apimachinery `validation.IsDNS1123Label`,
  `IsDNS1123Subdomain`, `IsValidLabelValue`). Helm release names at most 53 (Helm
  `chartutil.ValidateReleaseName`).
- Operators derive Service names from what dsenv names: Strimzi `<cluster>-kafka-bootstrap`,
  the Spark operator `<application>-ui-svc`, KServe (RawDeployment) `<model>-predictor`; each
  must stay a 63-character DNS label.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from dsenv.profile.model import Team

KeyPath = tuple[str | int, ...]

S3_BUCKET = 63
IAM_ROLE = 64
EKS_CLUSTER = 100
EKS_NODE_GROUP = 63
ECR_REPOSITORY = 256
MSK_CLUSTER = 64
EMR_NAME = 64
KMS_ALIAS = 256
LOG_GROUP = 512
DNS_LABEL = 63
DNS_SUBDOMAIN = 253
HELM_RELEASE = 53

#: Services dsenv runs that other namespaces or users address, by fixed name.
WORKSPACE_SERVICE_ACCOUNT = "jupyter-user"
SPARK_SERVICE_ACCOUNT = "spark"
#: The KafkaUser dsenv creates for the workspaces (Strimzi names its secret after it); a
#: declared user of this name is refused at validate (`profile/checks.py`).
KAFKA_WORKSPACE_USER = "workspaces"
SERVING_SERVICE_ACCOUNT = "model-server"
PIPELINES_SERVICE_ACCOUNT = "pipeline-runner"
#: The Argo workflow controller's service account (dsenv names it so its RoleBinding can).
ARGO_CONTROLLER_SERVICE_ACCOUNT = "argo-workflow-controller"
#: A CronJob's name leaves room for the Job name the controller derives (`<name>-<minutes>`,
#: kubernetes pkg/apis/batch/validation); Argo refuses CronWorkflow names longer than 52 too
#: (workflow/validate `maxCharsInObjectName`).
CRON_NAME = 52
#: EventBridge Scheduler schedule names: 1-64 characters (CreateSchedule `Name`).
SCHEDULE_NAME = 64


# NamedTuples rather than dataclasses: `dsenv validate` imports this module, and a
# dataclass costs a few milliseconds to define.


class Part(NamedTuple):
    """One profile value a name is made of, and the key a user edits to change it."""

    text: str
    path: KeyPath
    what: str  # for messages: "the team name", "tier name 'gpu'"
    at_key: bool = False  # the value is a mapping key (a tier, a topic): point at the key


class PhysicalName(NamedTuple):
    """One name as a service sees it, with the limit it must meet."""

    kind: str  # what it names, e.g. "EKS node group"
    value: str  # the name dsenv uses (for derived checks: the longest name the service makes)
    limit: int
    parts: tuple[Part, ...]  # the variable profile parts, in the order they appear
    group: str = ""  # names within one group must be unique (default: the kind)

    def blame(self) -> Part:
        """The part to shorten: the last variable part (a tier, a model) when it is most of
        the name and shortening it alone could make the name fit; otherwise the longer of
        the team and org names."""
        prefix = [p for p in self.parts if p.path[0] in ("name", "org")]
        items = [p for p in self.parts if p not in prefix]
        item = len(items[-1].text) if items else 0
        rest = len(self.value) - item
        if items and (not prefix or (rest + 1 <= self.limit and item > rest)):
            return items[-1]
        return max(prefix, key=lambda p: (len(p.text), p.path[0] == "name"))


class Names(NamedTuple):
    """The physical names of one team's environment (see the module docstring)."""

    prefix: str  # `<org>-<team>`, or `<team>` without an org: the stack and AWS prefix
    namespace: str
    cluster: str  # EKS cluster (target aws)
    vpc: str
    flow_log_group: str
    cluster_log_group: str
    kms_alias: str
    node_groups: dict[str, str]  # tier -> EKS node group
    roles: dict[str, str]  # purpose -> IAM role name
    buckets: dict[str, str]  # purpose (data, artifacts) -> S3 bucket
    repository: str  # ECR repository, `<org>/<team>-workspace`
    kafka_cluster: str  # Strimzi Kafka (namespaced) or MSK cluster (account-wide)
    msk_log_group: str
    emr_virtual_cluster: str
    emr_application: str
    emr_security_group: str  # its Name tag
    operator_namespaces: dict[str, str]  # spark, strimzi, kserve, arc -> namespace
    runners_namespace: str
    service_accounts: dict[str, str]  # workspaces, spark, serving, runners
    spark_job: str  # the team's SparkApplication template
    releases: dict[str, str]  # chart -> Helm release name
    scale_sets: dict[str, str]  # repository (or organization) -> runner scale set
    topics: dict[str, str]  # Kafka topic -> KafkaTopic object name
    #: Strimzi: the KafkaUser (and its SCRAM secret) every workspace connects as
    kafka_workspace_user: str = KAFKA_WORKSPACE_USER
    # pipelines: job, Spark job and workflow -> its object (CronJob, ScheduledSparkApplication
    # or EventBridge schedule, WorkflowTemplate and CronWorkflow)
    pipeline_jobs: dict[str, str] = {}
    pipeline_spark_jobs: dict[str, str] = {}
    pipeline_workflows: dict[str, str] = {}
    checked: tuple[PhysicalName, ...] = ()


_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(text: str) -> str:
    """EMR on EKS names a job run's service accounts after the base36 of the job role's
    name (`emr-containers-sa-<kind>-<id>-<account>-<base36(role)>`)."""
    number = int.from_bytes(text.encode(), "big")
    digits = ""
    while number:
        number, rem = divmod(number, 36)
        digits = _BASE36[rem] + digits
    return digits or "0"


def prefix_of(org: str | None, team: str) -> str:
    return f"{org}-{team}" if org else team


def dns_label(text: str) -> str:
    """A DNS label made of `text`: lower case, '-' for anything else. Never truncated: the
    name's length is checked like every other."""
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def names_for(team: Team) -> Names:
    """Every physical name of `team`, and each name's limit for `check`."""
    builder = _Builder(team)
    return builder.build()


def problems(names: Names) -> Iterator[tuple[KeyPath, str, bool]]:
    """(path, message, at_key) for every name over its limit or taken twice within its kind."""
    seen: dict[tuple[str, str], PhysicalName] = {}
    for name in names.checked:
        part = name.blame()
        if len(name.value) > name.limit:
            yield (
                part.path,
                f"the {name.kind} name {name.value!r} would be {len(name.value)} characters; "
                f"at most {name.limit} are allowed: shorten {part.what}",
                part.at_key,
            )
        key = (name.group or name.kind, name.value)
        first = seen.setdefault(key, name)
        if first is not name:
            part = name.parts[-1]  # the item (repository, topic) that repeats a name
            yield (
                part.path,
                f"the {name.kind} name {name.value!r} is made twice (also from "
                f"{first.parts[-1].what}): rename one",
                part.at_key,
            )


class _Builder:
    def __init__(self, team: Team) -> None:
        self.team = team
        self.checked: list[PhysicalName] = []
        self.team_part = Part(team.name, ("name",), "the team name")
        self.parts: tuple[Part, ...] = (self.team_part,)
        if team.org:
            self.parts = (Part(team.org, ("org",), f"the org name ({team.org!r})"), self.team_part)

    def name(
        self,
        kind: str,
        value: str,
        limit: int,
        *items: Part,
        group: str = "",
        made_of: str = "prefix",
        shown: str | None = None,
    ) -> str:
        """Record `value` (or the longer `shown`, a name the service derives from it) and
        return it. `made_of`: `prefix` (org and team names), `team` or `items` (only the
        item parts)."""
        parts = {"prefix": self.parts, "team": (self.team_part,), "items": ()}[made_of]
        self.checked.append(PhysicalName(kind, shown or value, limit, (*parts, *items), group))
        return value

    def build(self) -> Names:
        team, n = self.team, self.name
        prefix = prefix_of(team.org, team.name)
        ns = team.name  # the Name type already makes it a DNS label
        aws = team.target.provider == "aws"
        install = team.target.operators == "install"
        shared = team.target.operator_namespaces
        tier_parts = {t: Part(t, ("tiers", t), f"tier name {t!r}", at_key=True) for t in team.tiers}

        cluster = n("EKS cluster", prefix, EKS_CLUSTER) if aws else prefix
        roles: dict[str, str] = {}
        node_groups: dict[str, str] = {}
        buckets: dict[str, str] = {}
        if aws:
            for tier, part in tier_parts.items():
                node_groups[tier] = n("EKS node group", f"{prefix}-{tier}", EKS_NODE_GROUP, part)
            for purpose in ("data", "artifacts"):
                buckets[purpose] = n("S3 bucket", f"{prefix}-{purpose}", S3_BUCKET)
            for purpose in self._role_purposes():
                roles[purpose] = n("IAM role", f"{prefix}-{purpose}", IAM_ROLE)
        else:
            node_groups = {tier: f"{prefix}-{tier}" for tier in team.tiers}

        def own_namespace(capability: str, suffix: str, used: bool) -> str:
            if not install:
                return str(getattr(shared, capability))
            name = f"{ns}-{suffix}"
            return n("Kubernetes namespace", name, DNS_LABEL, made_of="team") if used else name

        spark_operator = team.spark is not None and team.spark.engine == "operator"
        strimzi = team.kafka is not None and team.kafka.engine == "strimzi"
        operator_namespaces = {
            "spark": own_namespace("spark", "spark-operator", spark_operator),
            "strimzi": own_namespace("strimzi", "strimzi", strimzi),
            "kserve": own_namespace("kserve", "kserve", team.serving is not None),
            "arc": own_namespace("arc", "arc-system", team.ci_runners is not None),
            "argo": own_namespace("argo", "argo", self._argo()),
        }
        runners_ns = f"{ns}-runners"
        if team.ci_runners is not None:
            n("Kubernetes namespace", runners_ns, DNS_LABEL, made_of="team")

        kafka_cluster = f"{team.name}-kafka"
        if team.kafka is not None and team.kafka.engine != "strimzi":
            kafka_cluster = n("MSK cluster", f"{prefix}-kafka", MSK_CLUSTER)
        elif team.kafka is not None:
            n(
                "Strimzi bootstrap Service",
                kafka_cluster,
                DNS_LABEL,
                made_of="team",
                shown=f"{kafka_cluster}-kafka-bootstrap",
            )

        spark_job = f"{team.name}-spark-job"
        if team.spark is not None and team.spark.engine == "operator":
            n(
                "Spark UI Service",
                spark_job,
                DNS_LABEL,
                made_of="team",
                shown=f"{spark_job}-ui-svc",
            )
        emr_virtual = f"{cluster}-{ns}"
        emr_app = f"{cluster}-spark"
        if aws and team.spark is not None and team.spark.engine == "emr-on-eks":
            emr_virtual = n("EMR virtual cluster", emr_virtual, EMR_NAME)
        if aws and team.spark is not None and team.spark.engine == "emr-serverless":
            emr_app = n("EMR Serverless application", emr_app, EMR_NAME)

        if team.serving is not None:
            for i, model in enumerate(team.serving.models):
                n(
                    "KServe predictor Service",
                    model.name,
                    DNS_LABEL,
                    Part(
                        model.name, ("serving", "models", i, "name"), f"model name {model.name!r}"
                    ),
                    made_of="items",
                    shown=f"{model.name}-predictor",
                )

        scale_sets = self._scale_sets()
        topics = self._topics()
        pipelines = self._pipelines(prefix)
        return Names(
            prefix=prefix,
            namespace=ns,
            cluster=cluster,
            vpc=f"{prefix}-vpc",
            flow_log_group=f"/dsenv/{cluster}/vpc-flow-logs",
            cluster_log_group=f"/aws/eks/{cluster}/cluster",
            kms_alias=f"alias/dsenv/{cluster}",
            node_groups=node_groups,
            roles=roles,
            buckets=buckets,
            repository=n(
                "ECR repository",
                f"{team.org}/{team.name}-workspace" if team.org else f"{team.name}-workspace",
                ECR_REPOSITORY,
            ),
            kafka_cluster=kafka_cluster,
            msk_log_group=f"/dsenv/{kafka_cluster}/brokers",
            emr_virtual_cluster=emr_virtual,
            emr_application=emr_app,
            emr_security_group=f"{cluster}-emr-serverless",
            operator_namespaces=operator_namespaces,
            runners_namespace=runners_ns,
            service_accounts={
                "workspaces": WORKSPACE_SERVICE_ACCOUNT,
                "spark": SPARK_SERVICE_ACCOUNT,
                "serving": SERVING_SERVICE_ACCOUNT,
                "runners": f"{team.name}-runner",
                "pipelines": PIPELINES_SERVICE_ACCOUNT,
                "argo-controller": ARGO_CONTROLLER_SERVICE_ACCOUNT,
            },
            spark_job=spark_job,
            releases={
                "jupyterhub": "jupyterhub",
                "spark-operator": "spark-operator",
                "strimzi": "strimzi",
                "arc": "arc",
                "cert-manager": "cert-manager",
                "kserve-crd": "kserve-crd",
                "kserve": "kserve",
                "cluster-autoscaler": "cluster-autoscaler",
                "argo-workflows": "argo-workflows",
                "nvidia-device-plugin": "nvidia-device-plugin",
                "metrics-server": "metrics-server",
                "aws-load-balancer-controller": "aws-load-balancer-controller",
                "external-dns": "external-dns",
            },
            scale_sets=scale_sets,
            topics=topics,
            pipeline_jobs=pipelines["pipeline_jobs"],
            pipeline_spark_jobs=pipelines["pipeline_spark_jobs"],
            pipeline_workflows=pipelines["pipeline_workflows"],
            checked=tuple(self.checked),
        )

    def _role_purposes(self) -> list[str]:
        """The IAM roles dsenv names (the rest are auto-named by the engine)."""
        team = self.team
        purposes = ["ebs-csi", "cluster-autoscaler"]
        if team.workspaces is not None:
            purposes += ["workspaces", "lb-controller"]
            if team.workspaces.host is not None:
                purposes.append("external-dns")
        if team.spark is not None:
            purposes.append("spark" if team.spark.engine == "operator" else "emr-job")
        if team.serving is not None:
            purposes.append("serving")
        if team.ci_runners is not None:
            purposes.append("runners")
        if team.pipelines is not None:
            purposes.append("pipelines")
            if self._emr_schedules():
                purposes.append("pipelines-scheduler")
        return purposes

    def _argo(self) -> bool:
        """Argo Workflows runs the team's workflows: installed only when there are some."""
        return self.team.pipelines is not None and bool(self.team.pipelines.workflows)

    def _emr_schedules(self) -> bool:
        team = self.team
        return (
            team.pipelines is not None
            and bool(team.pipelines.spark_jobs)
            and team.spark is not None
            and team.spark.engine in ("emr-on-eks", "emr-serverless")
        )

    def _pipelines(self, prefix: str) -> dict[str, dict[str, str]]:
        p = self.team.pipelines
        out: dict[str, dict[str, str]] = {
            "pipeline_jobs": {},
            "pipeline_spark_jobs": {},
            "pipeline_workflows": {},
        }
        if p is None:
            return out
        at = ("pipelines",)
        for i, job in enumerate(p.jobs):
            part = Part(job.name, (*at, "jobs", i, "name"), f"job name {job.name!r}")
            out["pipeline_jobs"][job.name] = self.name(
                "CronJob", job.name, CRON_NAME, part, made_of="items"
            )
        emr = self._emr_schedules()
        for i, sjob in enumerate(p.spark_jobs):
            part = Part(sjob.name, (*at, "spark_jobs", i, "name"), f"Spark job name {sjob.name!r}")
            if emr:
                value = self.name(
                    "EventBridge schedule", f"{prefix}-{sjob.name}", SCHEDULE_NAME, part
                )
            else:
                # each run is a SparkApplication `<name>-<unix seconds>`, whose UI Service the
                # operator names `<application>-ui-svc`: a DNS label
                value = self.name(
                    "ScheduledSparkApplication",
                    sjob.name,
                    DNS_LABEL,
                    part,
                    made_of="items",
                    shown=f"{sjob.name}-{'0' * 10}-ui-svc",
                )
            out["pipeline_spark_jobs"][sjob.name] = value
        for i, flow in enumerate(p.workflows):
            part = Part(flow.name, (*at, "workflows", i, "name"), f"workflow name {flow.name!r}")
            limit = CRON_NAME if flow.schedule else DNS_SUBDOMAIN
            out["pipeline_workflows"][flow.name] = self.name(
                "workflow", flow.name, limit, part, made_of="items"
            )
        return out

    def _scale_sets(self) -> dict[str, str]:
        runners = self.team.ci_runners
        if runners is None:
            return {}
        team = self.team.name
        if not runners.repositories:
            return {
                runners.organization: self.name(
                    "runner scale set (Helm release)",
                    dns_label(f"{team}-runners"),
                    HELM_RELEASE,
                    made_of="team",
                )
            }
        out: dict[str, str] = {}
        for i, repo in enumerate(runners.repositories):
            part = Part(repo, ("ci_runners", "repositories", i), f"repository {repo!r}")
            short = repo.split("/", 1)[-1]
            out[repo] = self.name(
                "runner scale set (Helm release)",
                dns_label(f"{team}-{short}"),
                HELM_RELEASE,
                Part(short, part.path, part.what),
                made_of="team",
            )
        return out

    def _topics(self) -> dict[str, str]:
        kafka = self.team.kafka
        if kafka is None:
            return {}
        out = {t.name: dns_label(t.name) for t in kafka.topics}
        if kafka.engine == "strimzi":  # KafkaTopic objects exist only on Strimzi
            for i, t in enumerate(kafka.topics):
                part = Part(t.name, ("kafka", "topics", i, "name"), f"topic name {t.name!r}")
                self.name("KafkaTopic", out[t.name], DNS_SUBDOMAIN, part, made_of="items")
        return out
