"""Spark: the Kubeflow Spark operator (any target) or Amazon EMR (target aws), with the
driver and executors on the tiers the profile names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dsenv.spec import versions
from dsenv.spec.objectstore import ObjectStoreSpec
from dsenv.spec.tiers import NodePoolSpec
from dsenv.spec.versions import Chart

if TYPE_CHECKING:
    from dsenv.profile.model import Team
    from dsenv.spec.context import ExpandContext


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
    image: str
    uid: int  # the image's user, which driver and executors run as
    gid: int
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
        image=ctx.image,
        uid=versions.WORKSPACE_UID,
        gid=versions.WORKSPACE_GID,
        job_role=names.roles["emr-job"] if emr else "",
        virtual_cluster=names.emr_virtual_cluster if s.engine == "emr-on-eks" else "",
        application=names.emr_application if s.engine == "emr-serverless" else "",
        security_group=names.emr_security_group if s.engine == "emr-serverless" else "",
        install_operator=ctx.install_operators,
        image_pull_secret=ctx.image_pull_secret,
        object_store=ctx.object_store,
    )
