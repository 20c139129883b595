"""Pipelines: the team's scheduled jobs (Kubernetes CronJobs), scheduled Spark jobs
(ScheduledSparkApplications on the Spark operator, EventBridge Scheduler schedules that start
EMR on EKS job runs) and workflows (Argo Workflows: a WorkflowTemplate each, and a
CronWorkflow when scheduled).

Every pod gets its tier's own cpu and memory (requests equal limits, so it fits the tier by
construction), the tier's placement, and the team image unless the entry names another.
Schedules keep their time zone in the scheduler's own field, and `runs_per_month` is what
`dsenv cost` multiplies by a run's duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dsenv.profile.cron import runs_per_month
from dsenv.profile.types import parse_seconds
from dsenv.spec import versions
from dsenv.spec.objectstore import ObjectStoreSpec
from dsenv.spec.tiers import NodePoolSpec
from dsenv.spec.versions import Chart

if TYPE_CHECKING:
    from dsenv.profile.model import PipelineJob, Team, WorkflowStep
    from dsenv.spec.context import ExpandContext

#: The label that names a pipeline pod's tier (read back by `dsenv cost`); not the node
#: label `dsenv.io/tier`, which only target aws nodes carry.
TIER_LABEL = "dsenv.io/pipeline-tier"
#: Where Argo reads a namespace's artifact repository from (artifact-repository-ref docs:
#: https://argo-workflows.readthedocs.io/en/stable/artifact-repository-ref/).
ARTIFACT_REPOSITORIES = "artifact-repositories"
ARTIFACT_REPOSITORY_KEY = "default"
#: The ConfigMap of examples a notebook runs, and where each workspace sees it.
EXAMPLES_CONFIGMAP = "pipelines-examples"
EXAMPLES_MOUNT = "/home/jovyan/pipelines-examples"
EXAMPLE_KEY = "run_pipeline.py"  # the helper that triggers a job or submits a workflow
#: Placeholder schedule of an on-demand job: its CronJob is suspended, so it never fires.
ON_DEMAND_SCHEDULE = "0 0 1 1 *"


@dataclass(frozen=True)
class PodSpec:
    """One container on a tier: what a job run or a workflow step is."""

    name: str
    command: tuple[str, ...]
    image: str | None  # None: the team image (on aws known once the stack has it)
    pool: NodePoolSpec
    timeout_seconds: int
    retries: int
    env: dict[str, str]
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class ScheduledJobSpec:
    name: str  # the CronJob
    pod: PodSpec
    schedule: str | None  # None: on demand only (suspended)
    time_zone: str | None
    concurrency: Literal["Allow", "Forbid", "Replace"]
    runs_per_month: float


@dataclass(frozen=True)
class WorkflowStepSpec:
    pod: PodSpec
    depends: tuple[str, ...]


@dataclass(frozen=True)
class WorkflowSpec:
    name: str  # the WorkflowTemplate and the CronWorkflow
    steps: tuple[WorkflowStepSpec, ...]
    schedule: str | None
    time_zone: str | None
    concurrency: Literal["Allow", "Forbid", "Replace"]
    runs_per_month: float

    @property
    def timeout_seconds(self) -> int:
        """The longest the workflow may take: the slowest chain of steps."""
        by_name = {s.pod.name: s for s in self.steps}
        done: dict[str, int] = {}

        def finish(name: str) -> int:
            if name not in done:
                step = by_name[name]
                done[name] = step.pod.timeout_seconds + max(
                    (finish(d) for d in step.depends), default=0
                )
            return done[name]

        return max(finish(s.pod.name) for s in self.steps)


@dataclass(frozen=True)
class SparkJobSpec:
    name: str  # ScheduledSparkApplication, or (EMR) the EventBridge schedule
    main: str
    arguments: tuple[str, ...]
    schedule: str
    time_zone: str
    concurrency: Literal["Allow", "Forbid", "Replace"]
    executors: int
    timeout_seconds: int
    runs_per_month: float


@dataclass(frozen=True)
class ArtifactStore:
    """Where Argo archives logs and keeps artifacts: the team's bucket (aws, through the
    pipelines role) or the team's object store (kubernetes, with its credentials secret)."""

    bucket: str
    endpoint: str  # host[:port], no scheme (Argo's S3 artifact `endpoint`)
    region: str
    insecure: bool = False
    credentials_secret: str | None = None  # None: the pod's IAM role (IRSA)


@dataclass(frozen=True)
class PipelinesSpec:
    provider: Literal["aws", "kubernetes"]
    namespace: str
    labels: dict[str, str]
    service_account: str  # what jobs, steps and Argo's executor run as
    workspace_service_account: str | None  # the notebooks' identity: may submit and read logs
    image: str  # the team image (target kubernetes: qualified; aws: from the registry)
    uid: int
    gid: int
    submitters: tuple[str, ...]  # groups (Kubernetes group names) that submit and trigger
    viewers: tuple[str, ...]  # groups that list runs and read logs
    jobs: tuple[ScheduledJobSpec, ...]
    workflows: tuple[WorkflowSpec, ...]
    spark_jobs: tuple[SparkJobSpec, ...]
    spark_engine: str | None  # operator, emr-on-eks or emr-serverless with Spark jobs
    chart: Chart | None  # Argo Workflows, installed for this team (with workflows and install)
    release: str
    controller_namespace: str  # the installed controller's, or the cluster's shared one
    controller_service_account: str
    install_controller: bool
    artifacts: ArtifactStore | None
    image_pull_secret: str | None = None
    object_store: ObjectStoreSpec | None = None
    role_name: str = ""  # aws: the pipelines IRSA role
    scheduler_role: str = ""  # aws, EMR: the role EventBridge Scheduler starts job runs as
    emr_release: str = ""

    @property
    def pod_specs(self) -> tuple[PodSpec, ...]:
        return (*(j.pod for j in self.jobs), *(s.pod for w in self.workflows for s in w.steps))


def _pod(entry: PipelineJob | WorkflowStep, ctx: ExpandContext) -> PodSpec:
    return PodSpec(
        name=entry.name,
        command=tuple(entry.command),
        image=entry.image,
        pool=ctx.pools[entry.tier],
        timeout_seconds=parse_seconds(entry.timeout),
        retries=entry.retries,
        env=dict(entry.env),
        secrets=tuple(entry.secrets),
    )


def _artifacts(team: Team, ctx: ExpandContext) -> ArtifactStore | None:
    if team.target.provider == "aws":
        region = team.target.region or "us-east-1"
        return ArtifactStore(
            bucket=ctx.names.buckets["artifacts"],
            endpoint=f"s3.{region}.amazonaws.com",
            region=region,
        )
    store = ctx.object_store
    if store is None or not store.artifacts_bucket:
        return None
    default_port = 443 if store.https else 80
    return ArtifactStore(
        bucket=store.artifacts_bucket,
        endpoint=store.host if store.port == default_port else f"{store.host}:{store.port}",
        region=store.region,
        insecure=not store.https,
        credentials_secret=store.credentials_secret,
    )


def expand(team: Team, ctx: ExpandContext) -> PipelinesSpec | None:
    p = team.pipelines
    if p is None:
        return None
    names = ctx.names
    default_zone = p.time_zone

    def zone(own: str | None) -> str | None:
        return own or default_zone

    jobs = tuple(
        ScheduledJobSpec(
            name=names.pipeline_jobs[j.name],
            pod=_pod(j, ctx),
            schedule=j.schedule,
            time_zone=zone(j.time_zone) if j.schedule else None,
            concurrency=j.concurrency,
            runs_per_month=runs_per_month(j.schedule) if j.schedule else 0.0,
        )
        for j in p.jobs
    )
    workflows = tuple(
        WorkflowSpec(
            name=names.pipeline_workflows[w.name],
            steps=tuple(WorkflowStepSpec(_pod(s, ctx), tuple(s.depends)) for s in w.steps),
            schedule=w.schedule,
            time_zone=zone(w.time_zone) if w.schedule else None,
            concurrency=w.concurrency,
            runs_per_month=runs_per_month(w.schedule) if w.schedule else 0.0,
        )
        for w in p.workflows
    )
    spark_jobs = tuple(
        SparkJobSpec(
            name=names.pipeline_spark_jobs[s.name],
            main=s.main,
            arguments=tuple(s.arguments),
            schedule=s.schedule,
            time_zone=zone(s.time_zone) or "UTC",
            concurrency=s.concurrency,
            executors=s.executors,
            timeout_seconds=parse_seconds(s.timeout),
            runs_per_month=runs_per_month(s.schedule),
        )
        for s in p.spark_jobs
    )
    install = ctx.install_operators and bool(workflows)
    emr = (
        bool(spark_jobs)
        and team.spark is not None
        and team.spark.engine in ("emr-on-eks", "emr-serverless")
    )
    return PipelinesSpec(
        provider=team.target.provider,
        namespace=names.namespace,
        labels=ctx.labels,
        service_account=names.service_accounts["pipelines"],
        workspace_service_account=(
            names.service_accounts["workspaces"] if team.workspaces is not None else None
        ),
        image=ctx.image,
        uid=versions.WORKSPACE_UID,
        gid=versions.WORKSPACE_GID,
        submitters=tuple(p.submitters),
        viewers=tuple(g for g in p.viewers if g not in p.submitters),
        jobs=jobs,
        workflows=workflows,
        spark_jobs=spark_jobs,
        spark_engine=team.spark.engine if spark_jobs and team.spark is not None else None,
        chart=versions.ARGO_WORKFLOWS if install else None,
        release=names.releases["argo-workflows"],
        controller_namespace=names.operator_namespaces["argo"],
        controller_service_account=names.service_accounts["argo-controller"],
        install_controller=install,
        artifacts=_artifacts(team, ctx),
        image_pull_secret=ctx.image_pull_secret,
        object_store=ctx.object_store,
        role_name=names.roles.get("pipelines", ""),
        scheduler_role=names.roles.get("pipelines-scheduler", "") if emr else "",
        emr_release=versions.EMR_RELEASE if emr else "",
    )
