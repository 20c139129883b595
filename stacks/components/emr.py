"""Spark on EMR: a virtual cluster on the team namespace (EMR on EKS) or an EMR Serverless
application in the private subnets, each with its job execution role.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import yaml

from dsenv.capabilities import component_type
from dsenv.spec.names import base36
from dsenv.spec.spark import SparkPodSize, SparkSpec
from dsenv.spec.tiers import NodePoolSpec
from dsenv.stacks.components.identity import STS_AUDIENCE, service_principal_trust, spark_policy
from dsenv.stacks.components.kube import manifest_resource

#: The identity EMR on EKS acts as inside the cluster (fixed by the service).
EMR_CONTAINERS_USER = "emr-containers"
EMR_CONTAINERS_SERVICE_ROLE = "AWSServiceRoleForAmazonEMRContainers"


def emr_on_eks_trust_policy(
    provider_arn: str, issuer: str, namespace: str, account: str, role_name: str
) -> str:
    """EMR on EKS creates one service account per job run, named
    `emr-containers-sa-<a>-<b>-<account>-<base36(role)>`: `sub` can only be matched by a
    pattern, and the pattern pins the namespace, the account and this role."""
    host = issuer.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringLike": {
                            f"{host}:sub": f"system:serviceaccount:{namespace}:emr-containers-sa-*-*-{account}-{base36(role_name)}"
                        },
                        "StringEquals": {f"{host}:aud": STS_AUDIENCE},
                    },
                }
            ],
        },
        sort_keys=True,
    )


#: The verbs EMR on EKS needs on the objects it manages for a job run.
_MANAGE = [
    "get",
    "list",
    "watch",
    "describe",
    "create",
    "edit",
    "delete",
    "annotate",
    "patch",
    "label",
]


def emr_containers_rules() -> list[dict[str, list[str]]]:
    """What EMR on EKS needs in the team namespace to run job pods (from the EMR guide)."""
    return [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
        {
            "apiGroups": [""],
            "resources": [
                "serviceaccounts",
                "services",
                "configmaps",
                "events",
                "pods",
                "pods/log",
            ],
            "verbs": [*_MANAGE, "deletecollection"],
        },
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "verbs": ["create", "patch", "delete", "watch"],
        },
        {
            "apiGroups": ["apps"],
            "resources": ["statefulsets", "deployments"],
            "verbs": _MANAGE,
        },
        {
            "apiGroups": ["batch"],
            "resources": ["jobs"],
            "verbs": _MANAGE,
        },
        {
            "apiGroups": ["extensions", "networking.k8s.io"],
            "resources": ["ingresses"],
            "verbs": _MANAGE,
        },
        {
            "apiGroups": ["rbac.authorization.k8s.io"],
            "resources": ["roles", "rolebindings"],
            "verbs": [*_MANAGE, "deletecollection"],
        },
        {
            "apiGroups": [""],
            "resources": ["persistentvolumeclaims"],
            "verbs": [*_MANAGE, "deletecollection"],
        },
    ]


def serverless_maximum_capacity(
    executor_cpu_millis: int, executor_memory_bytes: int, max_executors: int
) -> dict[str, str]:
    """The application's ceiling: the profile's executors plus one driver of the same size."""
    workers = max_executors + 1
    return {
        "cpu": f"{math.ceil(executor_cpu_millis * workers / 1000)} vCPU",
        "memory": f"{math.ceil(executor_memory_bytes * workers / 10**9)} GB",
    }


#: EMR's Spark images run as the `hadoop` user (EMR on EKS guide, "Customizing Docker images":
#: `USER hadoop:hadoop`, uid 999).
EMR_UID = 999
POD_TEMPLATE_PREFIX = "dsenv/emr/pod-templates"


def submitter_policy(
    engine: str, region: str, account: str, target_id: str, job_role_arn: str
) -> str:
    """What a workspace needs to run jobs on the team's EMR: start, follow and cancel job
    runs on its virtual cluster (EMR on EKS) or application (EMR Serverless), and pass the
    job role, and only that role, to them. ARNs as the services' authorization reference
    writes them: `/virtualclusters/<id>[/jobruns/*]`, `/applications/<id>[/jobruns/*]`."""
    if engine == "emr-on-eks":
        service, target, describe = (
            "emr-containers",
            f"/virtualclusters/{target_id}",
            "DescribeJobRun",
        )
    else:
        service, target, describe = "emr-serverless", f"/applications/{target_id}", "GetJobRun"
    base = f"arn:aws:{service}:{region}:{account}:{target}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "StartJobRuns",
                    "Effect": "Allow",
                    "Action": [f"{service}:StartJobRun", f"{service}:ListJobRuns"],
                    "Resource": base,
                },
                {
                    "Sid": "FollowJobRuns",
                    "Effect": "Allow",
                    "Action": [f"{service}:{describe}", f"{service}:CancelJobRun"],
                    "Resource": f"{base}/jobruns/*",
                },
                {
                    "Sid": "PassJobRole",
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": job_role_arn,
                },
            ],
        },
        sort_keys=True,
    )


def pod_template(pool: NodePoolSpec, container: str) -> dict[str, Any]:
    """An EMR on EKS pod template: the tier's nodes and tolerations, and a `restricted`
    security context (the team namespace enforces it)."""
    from dsenv.stacks.components.podsecurity import (
        restricted_container_context,
        restricted_pod_context,
    )

    spec: dict[str, Any] = {
        "nodeSelector": dict(pool.node_selector),
        "securityContext": restricted_pod_context(
            run_as_user=EMR_UID, run_as_group=EMR_UID, fs_group=EMR_UID
        ),
        "containers": [
            {
                "name": container,
                "securityContext": restricted_container_context(
                    run_as_user=EMR_UID, run_as_group=EMR_UID
                ),
            }
        ],
    }
    if pool.tolerations:
        spec["tolerations"] = pool.toleration_manifests()
    return {"apiVersion": "v1", "kind": "Pod", "spec": spec}


def _size_conf(role: str, size: SparkPodSize) -> dict[str, str]:
    return {
        f"spark.{role}.cores": str(size.cores),
        f"spark.kubernetes.{role}.request.cores": f"{size.cpu_millis}m",
        f"spark.kubernetes.{role}.limit.cores": f"{size.cpu_millis}m",
        f"spark.{role}.memory": f"{size.heap_mib}m",
        f"spark.{role}.memoryOverhead": f"{size.overhead_mib}m",
    }


def emr_spark_conf(spark: SparkSpec, bucket: str) -> dict[str, str]:
    """The `spark-defaults` a job run on the team's virtual cluster uses: pods on the tiers
    (pod templates in the artifacts bucket, read with the job role) and sized to fit them."""
    base = f"s3://{bucket}/{POD_TEMPLATE_PREFIX}"
    return {
        "spark.kubernetes.driver.podTemplateFile": f"{base}/driver.yaml",
        "spark.kubernetes.executor.podTemplateFile": f"{base}/executor.yaml",
        **_size_conf("driver", spark.driver_size),
        **_size_conf("executor", spark.executor_size),
        "spark.dynamicAllocation.maxExecutors": str(spark.max_executors),
    }


@dataclass
class EmrArgs:
    spark: SparkSpec  # engine emr-on-eks or emr-serverless
    data_bucket_arn: pulumi.Input[str]
    artifacts_bucket_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]  # emr-on-eks: the EKS cluster the virtual cluster is on
    oidc_provider_arn: pulumi.Input[str]  # emr-on-eks: the job role's trust
    oidc_issuer: pulumi.Input[str]
    vpc_id: pulumi.Input[str]  # emr-serverless: the workers' network
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    artifacts_bucket: pulumi.Input[str] = ""  # emr-on-eks: where the pod templates are
    #: the workspaces' IAM role, which gets the submitter policy (None: no workspaces)
    submitter_role_arn: pulumi.Input[str] | None = None


class Emr(pulumi.ComponentResource):
    job_role_arn: pulumi.Output[str]
    spark_conf: pulumi.Output[dict[str, str]] | None = None  # emr-on-eks: spark-defaults
    virtual_cluster_id: pulumi.Output[str] | None = None
    application_id: pulumi.Output[str] | None = None

    def __init__(
        self, name: str, args: EmrArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("spark", "Emr"), name, None, opts)
        if args.spark.engine == "operator":
            raise ValueError("Emr is for the emr-on-eks and emr-serverless engines")
        account = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).account_id
        policy = pulumi.Output.all(args.data_bucket_arn, args.artifacts_bucket_arn).apply(
            lambda a: spark_policy(a[0], a[1])
        )
        if args.spark.engine == "emr-on-eks":
            self._on_eks(name, args, account, policy)
        else:
            self._serverless(name, args, account, policy)
        self.register_outputs({"job_role_arn": self.job_role_arn})

    def _on_eks(
        self, name: str, args: EmrArgs, account: pulumi.Output[str], policy: pulumi.Output[str]
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        spark = args.spark
        role_name = spark.job_role
        trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer, account).apply(
            lambda a: emr_on_eks_trust_policy(a[0], a[1], spark.namespace, a[2], role_name)
        )
        role = aws.iam.Role(f"{name}-job", name=role_name, assume_role_policy=trust, opts=child)
        aws.iam.RolePolicy(f"{name}-job", role=role.id, policy=policy, opts=child)

        # EMR acts in the namespace as user `emr-containers` through its service-linked role.
        entry = aws.eks.AccessEntry(
            name,
            cluster_name=args.cluster_name,
            principal_arn=account.apply(
                lambda a: f"arn:aws:iam::{a}:role/{EMR_CONTAINERS_SERVICE_ROLE}"
            ),
            user_name=EMR_CONTAINERS_USER,
            type="STANDARD",
            opts=child,
        )
        meta = {"name": EMR_CONTAINERS_USER, "namespace": spark.namespace, "labels": spark.labels}
        rbac = "rbac.authorization.k8s.io"
        rbac_role = manifest_resource(
            name,
            {
                "apiVersion": f"{rbac}/v1",
                "kind": "Role",
                "metadata": meta,
                "rules": emr_containers_rules(),
            },
            child,
        )
        binding = manifest_resource(
            name,
            {
                "apiVersion": f"{rbac}/v1",
                "kind": "RoleBinding",
                "metadata": meta,
                "roleRef": {"apiGroup": rbac, "kind": "Role", "name": EMR_CONTAINERS_USER},
                "subjects": [{"kind": "User", "name": EMR_CONTAINERS_USER, "apiGroup": rbac}],
            },
            pulumi.ResourceOptions(parent=self, depends_on=[rbac_role]),
        )
        virtual = aws.emrcontainers.VirtualCluster(
            name,
            name=spark.virtual_cluster,
            container_provider=aws.emrcontainers.VirtualClusterContainerProviderArgs(
                id=args.cluster_name,
                type="EKS",
                info=aws.emrcontainers.VirtualClusterContainerProviderInfoArgs(
                    eks_info=aws.emrcontainers.VirtualClusterContainerProviderInfoEksInfoArgs(
                        namespace=spark.namespace
                    )
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[entry, binding]),
        )
        self.job_role_arn = role.arn
        self.virtual_cluster_id = virtual.id
        for which, pool, container in (
            ("driver", spark.driver, "spark-kubernetes-driver"),
            ("executor", spark.executor, "spark-kubernetes-executor"),
        ):
            aws.s3.BucketObjectv2(
                f"{name}-{which}-pod-template",
                bucket=args.artifacts_bucket,
                key=f"{POD_TEMPLATE_PREFIX}/{which}.yaml",
                content=yaml.safe_dump(pod_template(pool, container), sort_keys=False),
                content_type="application/yaml",
                opts=child,
            )
        self.spark_conf = pulumi.Output.from_input(args.artifacts_bucket).apply(
            lambda bucket: emr_spark_conf(spark, bucket)
        )
        self._submitter(name, args, account, virtual.id, role.arn)

    def _serverless(
        self, name: str, args: EmrArgs, account: pulumi.Output[str], policy: pulumi.Output[str]
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        spark = args.spark
        role = aws.iam.Role(
            f"{name}-job",
            name=spark.job_role,
            assume_role_policy=account.apply(
                lambda a: service_principal_trust("emr-serverless.amazonaws.com", a)
            ),
            opts=child,
        )
        aws.iam.RolePolicy(f"{name}-job", role=role.id, policy=policy, opts=child)
        # Jobs reach S3 and the internet through the NAT; nothing may connect to them.
        group = aws.ec2.SecurityGroup(
            name,
            description="dsenv: EMR Serverless workers (egress only)",
            vpc_id=args.vpc_id,
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="-1",
                    from_port=0,
                    to_port=0,
                    cidr_blocks=["0.0.0.0/0"],
                    description="outbound",
                )
            ],
            tags={"Name": spark.security_group},
            opts=child,
        )
        app = aws.emrserverless.Application(
            name,
            name=spark.application,
            release_label=spark.emr_release,
            type="spark",
            architecture="X86_64",
            maximum_capacity=aws.emrserverless.ApplicationMaximumCapacityArgs(
                **serverless_maximum_capacity(
                    spark.executor.cpu_millis, spark.executor.memory_bytes, spark.max_executors
                )
            ),
            auto_start_configuration=aws.emrserverless.ApplicationAutoStartConfigurationArgs(
                enabled=True
            ),
            auto_stop_configuration=aws.emrserverless.ApplicationAutoStopConfigurationArgs(
                enabled=True, idle_timeout_minutes=15
            ),
            network_configuration=aws.emrserverless.ApplicationNetworkConfigurationArgs(
                subnet_ids=args.subnet_ids, security_group_ids=[group.id]
            ),
            opts=child,
        )
        self.job_role_arn = role.arn
        self.application_id = app.id
        self._submitter(name, args, account, app.id, role.arn)

    def _submitter(
        self,
        name: str,
        args: EmrArgs,
        account: pulumi.Output[str],
        target_id: pulumi.Output[str],
        job_role_arn: pulumi.Output[str],
    ) -> None:
        """The submitter policy, on the workspaces' role."""
        if args.submitter_role_arn is None:
            return
        engine, region = args.spark.engine, args.spark.region
        aws.iam.RolePolicy(
            f"{name}-submitter",
            role=pulumi.Output.from_input(args.submitter_role_arn).apply(
                lambda arn: arn.rsplit("/", 1)[-1]
            ),
            policy=pulumi.Output.all(account, target_id, job_role_arn).apply(
                lambda a: submitter_policy(engine, region, a[0], a[1], a[2])
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
