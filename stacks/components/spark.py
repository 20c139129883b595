"""SparkOperator: the Kubeflow Spark operator, the team's `spark` service account and RBAC,
and a ready SparkApplication template (stored as a ConfigMap the team copies from)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import yaml

from dsenv.capabilities import component_type
from dsenv.spec.base import restricted_labels
from dsenv.spec.spark import (
    EXAMPLE_APPLICATION,
    TEMPLATE_CONFIGMAP,
    TEMPLATE_KEY,
    SparkPodSize,
    SparkSpec,
)
from dsenv.spec.tiers import NodePoolSpec
from dsenv.stacks.components.kube import helm_release, manifest_resource, service_account
from dsenv.stacks.components.namespace import namespace_manifest
from dsenv.stacks.components.podsecurity import restricted_container_context, restricted_pod_context

SPARK_UID = 185  # the spark-operator image's user
#: What a submitter (the workspaces' identity) may do with the team's Spark applications:
#: create, watch, read and delete them, and read the driver's logs.
SUBMITTER_ROLE = "spark-submitter"
SPARK_API_GROUP = "sparkoperator.k8s.io"


def operator_values(spark: SparkSpec) -> dict[str, Any]:
    pod = restricted_pod_context(run_as_user=SPARK_UID, run_as_group=SPARK_UID, fs_group=SPARK_UID)
    container = restricted_container_context(
        run_as_user=SPARK_UID, run_as_group=SPARK_UID, read_only_root=True
    )
    return {
        "spark": {
            "jobNamespaces": [spark.namespace],
            # dsenv owns the team's service account and RBAC (with workload identity)
            "serviceAccount": {"create": False, "name": spark.service_account},
            "rbac": {"create": False},
        },
        "controller": {"podSecurityContext": pod, "securityContext": container},
        "webhook": {"podSecurityContext": pod, "securityContext": container},
    }


def rbac_manifests(spark: SparkSpec) -> list[dict[str, Any]]:
    """What a Spark driver does: create and clean up executor pods, their services,
    configmaps and on-demand volume claims, in the team namespace only."""
    meta = {"name": "spark-driver", "namespace": spark.namespace, "labels": dict(spark.labels)}
    verbs = ["create", "get", "list", "watch", "update", "patch", "delete", "deletecollection"]
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["pods", "services", "configmaps", "persistentvolumeclaims"],
                    "verbs": verbs,
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "spark-driver",
            },
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": spark.service_account,
                    "namespace": spark.namespace,
                }
            ],
        },
        *submitter_manifests(spark),
    ]


def submitter_manifests(spark: SparkSpec) -> list[dict[str, Any]]:
    """The workspaces' service account may submit, watch and delete SparkApplications and
    ScheduledSparkApplications, and follow their pods and driver logs, in the team
    namespace only."""
    if not spark.submitters:
        return []
    meta = {"name": SUBMITTER_ROLE, "namespace": spark.namespace, "labels": dict(spark.labels)}
    manage = ["create", "get", "list", "watch", "update", "patch", "delete"]
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": [
                {
                    "apiGroups": [SPARK_API_GROUP],
                    "resources": ["sparkapplications", "scheduledsparkapplications"],
                    "verbs": manage,
                },
                {
                    "apiGroups": [SPARK_API_GROUP],
                    "resources": [
                        "sparkapplications/status",
                        "scheduledsparkapplications/status",
                    ],
                    "verbs": ["get"],
                },
                {
                    "apiGroups": [""],
                    "resources": ["pods", "pods/log"],
                    "verbs": ["get", "list", "watch"],
                },
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": SUBMITTER_ROLE,
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": sa, "namespace": spark.namespace}
                for sa in spark.submitters
            ],
        },
    ]


def _pod(pool: NodePoolSpec, size: SparkPodSize, spark: SparkSpec) -> dict[str, Any]:
    uid, gid = spark.uid, spark.gid
    pod: dict[str, Any] = {
        # the pod requests coreRequest and heap + memoryOverhead (spark.kubernetes.
        # {driver,executor}.request.cores, spark.*.memoryOverhead): `SparkPodSize`
        "cores": size.cores,
        "coreRequest": f"{size.cpu_millis}m",
        "coreLimit": f"{size.cpu_millis}m",
        "memory": f"{size.heap_mib}m",
        "memoryOverhead": f"{size.overhead_mib}m",
        "nodeSelector": pool.node_selector,
        "labels": dict(spark.labels),
        "podSecurityContext": restricted_pod_context(
            run_as_user=uid, run_as_group=gid, fs_group=gid
        ),
        "securityContext": restricted_container_context(run_as_user=uid, run_as_group=gid),
    }
    if pool.tolerations:
        pod["tolerations"] = pool.toleration_manifests()
    if size.gpus:
        pod["gpu"] = {"name": pool.gpu_resource, "quantity": size.gpus}
    if spark.object_store is not None:
        pod["env"] = spark.object_store.env()
    return pod


def spark_application(spark: SparkSpec, image: str) -> dict[str, Any]:
    """The team's SparkApplication template: PySpark on Spark's image, driver and executors
    on their tiers, dynamic allocation up to the profile's executor cap. As written it runs
    PySpark's pi.py from the image; a job of one's own replaces `mainApplicationFile`."""
    driver = {
        **_pod(spark.driver, spark.driver_size, spark),
        "serviceAccount": spark.service_account,
    }
    executor = {**_pod(spark.executor, spark.executor_size, spark), "instances": 1}
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {
            "name": spark.job_name,
            "namespace": spark.namespace,
            "labels": dict(spark.labels),
        },
        "spec": {
            "type": "Python",
            "pythonVersion": "3",
            "mode": "cluster",
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "mainApplicationFile": EXAMPLE_APPLICATION,
            "arguments": ["100"],
            "sparkVersion": spark.spark_version,
            "restartPolicy": {"type": "Never"},
            "dynamicAllocation": {
                "enabled": True,
                "shuffleTrackingEnabled": True,
                "initialExecutors": 1,
                "minExecutors": 0,
                "maxExecutors": spark.max_executors,
            },
            "driver": driver,
            "executor": executor,
            **_store_and_pull(spark),
        },
    }


def _store_and_pull(spark: SparkSpec) -> dict[str, Any]:
    """The application's pull credentials and, with an object store, S3A pointed at it."""
    out: dict[str, Any] = {}
    if spark.image_pull_secret:
        out["imagePullSecrets"] = [spark.image_pull_secret]
    if spark.object_store is not None:
        out["sparkConf"] = spark.object_store.spark_conf()
    return out


def template_configmap(spark: SparkSpec, image: str) -> dict[str, Any]:
    """The template, mounted read-only in every workspace (`spec.spark.CLIENT_DIR`)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": TEMPLATE_CONFIGMAP,
            "namespace": spark.namespace,
            "labels": dict(spark.labels),
        },
        "data": {TEMPLATE_KEY: yaml.safe_dump(spark_application(spark, image), sort_keys=False)},
    }


@dataclass
class SparkOperatorArgs:
    spark: SparkSpec
    image: pulumi.Input[str] | None = None  # None: the spec's Spark image
    role_arn: pulumi.Input[str] | None = None  # aws: the drivers' and executors' IAM role


class SparkOperator(pulumi.ComponentResource):
    """The operator in its own namespace, watching only the team namespace (unless the
    cluster's operators are shared), and the team's service account, RBAC and template."""

    service_account: pulumi.Output[str]
    operator_namespace: pulumi.Output[str]

    def __init__(
        self, name: str, args: SparkOperatorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("spark", "SparkOperator"), name, None, opts)
        spark = args.spark
        assert spark.engine == "operator", "SparkOperator is for engine operator"
        child = pulumi.ResourceOptions(parent=self)
        if spark.install_operator:
            # shared operators: the cluster's own Spark operator already watches the team
            assert spark.chart is not None
            operator_ns = manifest_resource(
                f"{name}-operator-namespace",
                namespace_manifest(spark.operator_namespace, restricted_labels(spark.labels)),
                child,
            )
            helm_release(
                name,
                spark.chart,
                namespace=spark.operator_namespace,
                values=operator_values(spark),
                release_name=spark.release,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[operator_ns]),
            )
        sa = service_account(
            f"{name}-sa",
            name=spark.service_account,
            namespace=spark.namespace,
            labels=spark.labels,
            role_arn=args.role_arn,
            opts=child,
        )
        for manifest in rbac_manifests(spark):
            suffix = "" if manifest["metadata"]["name"] == "spark-driver" else "-submitter"
            manifest_resource(f"{name}-{manifest['kind'].lower()}{suffix}", manifest, child)
        configmap = pulumi.Output.from_input(args.image or spark.image).apply(
            lambda image: template_configmap(spark, image)
        )
        manifest_resource(
            f"{name}-template",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": configmap.apply(lambda m: m["metadata"]),
                "data": configmap.apply(lambda m: m["data"]),
            },
            child,
        )
        self.service_account = sa.urn.apply(lambda _: spark.service_account)
        self.operator_namespace = pulumi.Output.from_input(spark.operator_namespace)
        self.register_outputs(
            {"service_account": self.service_account, "operator_namespace": self.operator_namespace}
        )
