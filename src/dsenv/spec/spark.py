"""Spark: the Kubeflow Spark operator (any target) or Amazon EMR (target aws), with the
driver and executors on the tiers the profile names."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dsenv.spec import versions
from dsenv.spec.objectstore import ObjectStoreSpec
from dsenv.spec.tiers import NodePoolSpec
from dsenv.spec.versions import Chart

if TYPE_CHECKING:
    from dsenv.profile.model import Team
    from dsenv.spec.context import ExpandContext


MIB = 2**20
#: Spark's memory overhead on Kubernetes: the pod asks for the heap (`spark.*.memory`) plus
#: the overhead, `max(factor * heap, 384 MiB)`, with factor 0.10 for JVM jobs and 0.40 for
#: non-JVM ones (PySpark, SparkR). Sources: Spark's docs, running-on-kubernetes.md
#: (`spark.kubernetes.memoryOverheadFactor`: "For JVM-based jobs this value will default to
#: 0.10 and 0.40 for non-JVM jobs") and configuration.md (`spark.driver.memoryOverhead`:
#: "driverMemory * spark.driver.memoryOverheadFactor, with minimum of 384"); the code,
#: apache/spark resource-managers/kubernetes/core/.../features/BasicDriverFeatureStep.scala.
#: dsenv sets `memoryOverhead` explicitly, so the pod's size never depends on the defaults.
JVM_OVERHEAD_FACTOR = 0.10
PYSPARK_OVERHEAD_FACTOR = 0.40
MIN_OVERHEAD_MIB = 384
#: The smallest heap dsenv gives a driver or executor; a tier too small for it plus the
#: overhead is refused at validate (`profile/checks.py`).
MIN_HEAP_MIB = 512
#: Where the template and example job are mounted in every workspace (a ConfigMap).
CLIENT_DIR = "/etc/dsenv/spark"
TEMPLATE_CONFIGMAP = "spark-application-template"
TEMPLATE_KEY = "sparkapplication.yaml"
#: The example job: PySpark's own pi.py, inside the Spark image (apache/spark-docker moves
#: the distribution's `examples` to /opt/spark/examples), so the template runs unchanged.
EXAMPLE_APPLICATION = "local:///opt/spark/examples/src/main/python/pi.py"


@dataclass(frozen=True)
class SparkPodSize:
    """What one driver or executor pod gets: Spark's cores and heap, the overhead Spark adds,
    and the pod requests that result (Spark sets the memory limit equal to the request)."""

    cores: int  # spark.{driver,executor}.cores: task slots
    cpu_millis: int  # the pod's cpu request and limit (coreRequest, coreLimit)
    heap_mib: int  # spark.*.memory
    overhead_mib: int  # spark.*.memoryOverhead
    gpus: int

    @property
    def memory_request_mib(self) -> int:
        return self.heap_mib + self.overhead_mib


def overhead_mib(heap_mib: int, factor: float = PYSPARK_OVERHEAD_FACTOR) -> int:
    return max(math.ceil(heap_mib * factor), MIN_OVERHEAD_MIB)


def pod_size(pool: NodePoolSpec, factor: float = PYSPARK_OVERHEAD_FACTOR) -> SparkPodSize:
    """The largest heap whose pod (heap + Spark's overhead) fits the tier's size."""
    total = pool.memory_bytes // MIB
    heap = min(math.floor(total / (1 + factor)), total - MIN_OVERHEAD_MIB)
    while heap > 0 and heap + overhead_mib(heap, factor) > total:
        heap -= 1
    return SparkPodSize(
        cores=max(1, pool.cpu_millis // 1000),
        cpu_millis=pool.cpu_millis,
        heap_mib=max(heap, 0),
        overhead_mib=overhead_mib(max(heap, 0), factor),
        gpus=pool.gpus,
    )


@dataclass(frozen=True)
class SparkSpec:
    engine: Literal["operator", "emr-on-eks", "emr-serverless"]
    chart: Chart | None  # the operator chart for engine operator
    release: str
    namespace: str  # where the team's applications run
    operator_namespace: str
    labels: dict[str, str]
    service_account: str
    job_name: str  # the team's SparkApplication template
    spark_version: str
    driver: NodePoolSpec
    executor: NodePoolSpec
    max_executors: int
    emr_release: str
    image: str  # the Spark image (engine operator), `versions.spark_image`
    uid: int  # the image's user, which driver and executors run as
    gid: int
    driver_size: SparkPodSize
    executor_size: SparkPodSize
    submitters: tuple[str, ...] = ()  # service accounts that submit jobs (the workspaces')
    region: str = ""  # aws: the region of the EMR resources' ARNs
    job_role: str = ""  # EMR: the job execution role
    virtual_cluster: str = ""  # EMR on EKS
    application: str = ""  # EMR Serverless
    security_group: str = ""  # EMR Serverless: the workers' security group (Name tag)
    install_operator: bool = True  # False: the cluster's platform team runs a shared operator
    image_pull_secret: str | None = None  # target kubernetes: pull credentials of the image
    object_store: ObjectStoreSpec | None = None  # target kubernetes: S3A on the team's store


def expand(team: Team, ctx: ExpandContext) -> SparkSpec | None:
    s = team.spark
    if s is None:
        return None
    names = ctx.names
    emr = s.engine != "operator"
    return SparkSpec(
        engine=s.engine,
        chart=None if emr else versions.SPARK_OPERATOR,
        release=names.releases["spark-operator"],
        namespace=names.namespace,
        operator_namespace=names.operator_namespaces["spark"],
        labels=ctx.labels,
        service_account=names.service_accounts["spark"],
        job_name=names.spark_job,
        spark_version=s.version,
        driver=ctx.pools[s.driver_tier],
        executor=ctx.pools[s.executor_tier],
        max_executors=s.max_executors,
        emr_release=versions.EMR_RELEASE,
        image=_image(team),
        uid=versions.SPARK_UID,
        gid=versions.SPARK_UID,
        driver_size=pod_size(ctx.pools[s.driver_tier]),
        executor_size=pod_size(ctx.pools[s.executor_tier]),
        submitters=(names.service_accounts["workspaces"],) if team.workspaces else (),
        region=team.target.region or "",
        job_role=names.roles["emr-job"] if emr else "",
        virtual_cluster=names.emr_virtual_cluster if s.engine == "emr-on-eks" else "",
        application=names.emr_application if s.engine == "emr-serverless" else "",
        security_group=names.emr_security_group if s.engine == "emr-serverless" else "",
        install_operator=ctx.install_operators,
        image_pull_secret=ctx.image_pull_secret,
        object_store=ctx.object_store,
    )


def _image(team: Team) -> str:
    """The profile's Spark image (under target.registry when it names no registry), else
    Apache Spark's own, which stays at its registry as the operators' images do."""
    from dsenv.spec.image import qualified, registry_of

    s = team.spark
    assert s is not None
    if s.image is None:
        return versions.spark_image(s.version)
    registry = registry_of(team)
    return qualified(s.image, registry) if registry else s.image
