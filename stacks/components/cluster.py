"""The EKS cluster: control plane, one managed node group per tier, addons, IRSA, and the
explicit Kubernetes provider every in-cluster component uses.

Private endpoint always; the public endpoint only when the profile lists CIDRs, and then
only from those. Secrets are envelope-encrypted with a rotating KMS key; every control
plane log type goes to a log group with a retention. Tiers that may sit at zero nodes carry
cluster-autoscaler node-template tags (labels, taints, GPUs) on their Auto Scaling group, so
the autoscaler knows what a node would look like before one exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from dsenv.capabilities import component_type
from dsenv.spec import versions
from dsenv.spec.aws import ClusterSpec
from dsenv.spec.tiers import NodePoolSpec
from dsenv.stacks.components.identity import irsa_trust_policy, service_principal_trust
from dsenv.stacks.components.kube import helm_release, manifest_resource
from dsenv.stacks.components.podsecurity import (
    NOBODY,
    restricted_container_context,
    restricted_pod_context,
)

CONTROL_PLANE_LOG_RETENTION_DAYS = 90
MANAGED_POLICY = "arn:aws:iam::aws:policy/"
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEKS_CNI_Policy",
)
#: Managed addons. vpc-cni, kube-proxy and the pod identity agent run on any node; coredns
#: and the EBS CSI driver run Deployments, so they wait for the node groups.
ADDONS_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
ADDONS_AFTER_NODES = ("coredns", "aws-ebs-csi-driver")
EBS_CSI_SERVICE_ACCOUNT = ("kube-system", "ebs-csi-controller-sa")
AUTOSCALER_SERVICE_ACCOUNT = ("kube-system", "cluster-autoscaler")
TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
}
_GRAVITON = re.compile(r"^[a-z]+\d+g[a-z]*\.")
AUTOSCALER_TAG = "k8s.io/cluster-autoscaler"


def ami_type(pool: NodePoolSpec) -> str:
    """Amazon Linux 2023: the NVIDIA variant for GPU tiers, ARM for Graviton instance types."""
    arch = "ARM_64" if all(_GRAVITON.match(t) for t in pool.instance_types) else "x86_64"
    return f"AL2023_{arch}_{'NVIDIA' if pool.gpus else 'STANDARD'}"


def autoscaler_node_template_tags(cluster_name: str, pool: NodePoolSpec) -> dict[str, str]:
    """Tags that let cluster-autoscaler scale a group up from zero: discovery, then what a
    node of the group would carry (labels, taints, GPUs)."""
    tags = {f"{AUTOSCALER_TAG}/enabled": "true", f"{AUTOSCALER_TAG}/{cluster_name}": "owned"}
    for key, value in sorted(pool.labels.items()):
        tags[f"{AUTOSCALER_TAG}/node-template/label/{key}"] = value
    for taint in pool.taints:
        tags[f"{AUTOSCALER_TAG}/node-template/taint/{taint.key}"] = f"{taint.value}:{taint.effect}"
    if pool.gpus:
        tags[f"{AUTOSCALER_TAG}/node-template/resources/nvidia.com/gpu"] = str(pool.gpus)
    return tags


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that authenticates through `aws eks get-token` (no static credential)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
                }
            ],
            "contexts": [
                {"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}
            ],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                cluster_name,
                                "--region",
                                region,
                                "--output",
                                "json",
                            ],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def autoscaler_policy(cluster_name: str) -> str:
    """Describe calls on `*` (IAM offers no resource scope for them); read only this
    cluster's node groups; change only Auto Scaling groups tagged as owned by this cluster."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Discover",
                    "Effect": "Allow",
                    "Action": [
                        "autoscaling:DescribeAutoScalingGroups",
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeLaunchConfigurations",
                        "autoscaling:DescribeScalingActivities",
                        "autoscaling:DescribeTags",
                        "ec2:DescribeImages",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplateVersions",
                        "ec2:GetInstanceTypesFromInstanceRequirements",
                    ],
                    "Resource": "*",
                },
                {
                    "Sid": "ReadNodeGroups",
                    "Effect": "Allow",
                    "Action": "eks:DescribeNodegroup",
                    "Resource": f"arn:aws:eks:*:*:nodegroup/{cluster_name}/*/*",
                },
                {
                    "Sid": "ScaleOwnGroups",
                    "Effect": "Allow",
                    "Action": [
                        "autoscaling:SetDesiredCapacity",
                        "autoscaling:TerminateInstanceInAutoScalingGroup",
                    ],
                    # managed node groups name their Auto Scaling groups eks-<group>-<id>
                    "Resource": "arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/eks-*",
                    "Condition": {
                        "StringEquals": {
                            f"aws:ResourceTag/{AUTOSCALER_TAG}/{cluster_name}": "owned"
                        }
                    },
                },
            ],
        },
        sort_keys=True,
    )


def autoscaler_values(
    cluster_name: str, region: str, kubernetes_version: str, role_arn: pulumi.Input[str]
) -> dict[str, Any]:
    """cluster-autoscaler chart values: auto-discovery by tag, IRSA, Pod Security restricted."""
    return {
        "cloudProvider": "aws",
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        # the autoscaler's minor version must match the cluster's
        "image": {"tag": f"v{kubernetes_version}.0"},
        "rbac": {
            "serviceAccount": {
                "create": True,
                "name": AUTOSCALER_SERVICE_ACCOUNT[1],
                "annotations": {"eks.amazonaws.com/role-arn": role_arn},
            }
        },
        "extraArgs": {
            "balance-similar-node-groups": True,
            "expander": "least-waste",
            "skip-nodes-with-local-storage": False,
        },
        "securityContext": restricted_pod_context(
            run_as_user=NOBODY, run_as_group=NOBODY, fs_group=NOBODY
        ),
        "containerSecurityContext": restricted_container_context(read_only_root=True),
    }


@dataclass
class ClusterArgs:
    cluster: ClusterSpec
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]  # the network's private subnets


class Cluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]  # the cluster security group every node carries
    kms_key_arn: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]  # secret
    provider: k8s.Provider
    node_groups: dict[str, aws.eks.NodeGroup]  # tier -> node group

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("cluster", "Cluster"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec, subnet_ids = args.cluster, args.subnet_ids

        key = aws.kms.Key(
            f"{name}-secrets",
            description=f"dsenv: envelope encryption of Kubernetes secrets in {spec.name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        aws.kms.Alias(f"{name}-secrets", name=spec.kms_alias, target_key_id=key.key_id, opts=child)
        # EKS writes to this exact group; creating it first gives it a retention.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=spec.log_group,
            retention_in_days=CONTROL_PLANE_LOG_RETENTION_DAYS,
            opts=child,
        )

        cluster_role = aws.iam.Role(
            f"{name}-cluster",
            assume_role_policy=service_principal_trust("eks.amazonaws.com"),
            opts=child,
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-cluster",
            role=cluster_role.name,
            policy_arn=f"{MANAGED_POLICY}AmazonEKSClusterPolicy",
            opts=child,
        )

        public = spec.endpoint_public and bool(spec.public_access_cidrs)
        cluster = aws.eks.Cluster(
            name,
            name=spec.name,
            version=spec.kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=public,
                public_access_cidrs=list(spec.public_access_cidrs) if public else None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn),
            ),
            enabled_cluster_log_types=list(spec.log_types),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=True,
            ),
            opts=pulumi.ResourceOptions(
                parent=self, protect=True, depends_on=[log_group, cluster_policy]
            ),
        )

        issuer = cluster.identities.apply(
            lambda ids: str(ids[0].oidcs[0].issuer or "") if ids and ids[0].oidcs else ""
        )
        oidc = aws.iam.OpenIdConnectProvider(
            name,
            url=issuer,
            client_id_lists=["sts.amazonaws.com"],
            opts=child,
        )

        node_role = aws.iam.Role(
            f"{name}-node",
            assume_role_policy=service_principal_trust("ec2.amazonaws.com"),
            opts=child,
        )
        node_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=node_role.name,
                policy_arn=f"{MANAGED_POLICY}{policy}",
                opts=child,
            )
            for policy in NODE_POLICIES
        ]

        early_addons = [
            aws.eks.Addon(
                f"{name}-{addon}",
                cluster_name=cluster.name,
                addon_name=addon,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                opts=child,
            )
            for addon in ADDONS_BEFORE_NODES
        ]

        self.node_groups = {}
        for pool in spec.node_pools:
            self.node_groups[pool.tier] = self._node_group(
                spec, subnet_ids, pool, cluster, node_role, [*node_policies, *early_addons]
            )
        node_groups = list(self.node_groups.values())

        ebs_role = self._irsa_role(
            f"{name}-ebs-csi", spec.ebs_csi_role, oidc, issuer, EBS_CSI_SERVICE_ACCOUNT
        )
        ebs_policy = aws.iam.RolePolicyAttachment(
            f"{name}-ebs-csi",
            role=ebs_role.name,
            policy_arn=f"{MANAGED_POLICY}service-role/AmazonEBSCSIDriverPolicy",
            opts=child,
        )
        late_addons = [
            aws.eks.Addon(
                f"{name}-{addon}",
                cluster_name=cluster.name,
                addon_name=addon,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                service_account_role_arn=ebs_role.arn if addon == "aws-ebs-csi-driver" else None,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*node_groups, ebs_policy]),
            )
            for addon in ADDONS_AFTER_NODES
        ]

        config = pulumi.Output.all(
            cluster.name, cluster.endpoint, cluster.certificate_authority.data
        ).apply(lambda a: kubeconfig(a[0], a[1], a[2], spec.region))
        self.kubeconfig = pulumi.Output.secret(config)
        self.provider = k8s.Provider(
            "cluster",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            opts=child,
        )
        k8s_opts = pulumi.ResourceOptions(
            parent=self, provider=self.provider, depends_on=late_addons
        )

        # EKS no longer marks a StorageClass as default: user volumes and Kafka need one.
        manifest_resource(
            "gp3",
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": "gp3",
                    "labels": spec.labels,
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "ebs.csi.aws.com",
                "parameters": {"type": "gp3", "encrypted": "true"},
                "volumeBindingMode": "WaitForFirstConsumer",
                "allowVolumeExpansion": True,
                "reclaimPolicy": "Delete",
            },
            k8s_opts,
        )

        autoscaler_role = self._irsa_role(
            f"{name}-autoscaler",
            spec.autoscaler_role,
            oidc,
            issuer,
            AUTOSCALER_SERVICE_ACCOUNT,
        )
        aws.iam.RolePolicy(
            f"{name}-autoscaler",
            role=autoscaler_role.id,
            policy=autoscaler_policy(spec.name),
            opts=child,
        )
        helm_release(
            spec.autoscaler_release,
            versions.CLUSTER_AUTOSCALER,
            namespace=AUTOSCALER_SERVICE_ACCOUNT[0],
            values=autoscaler_values(
                spec.name, spec.region, spec.kubernetes_version, autoscaler_role.arn
            ),
            opts=k8s_opts,
        )

        self.cluster_name = cluster.name
        self.endpoint = cluster.endpoint
        self.oidc_issuer = issuer
        self.oidc_provider_arn = oidc.arn
        self.security_group_id = cluster.vpc_config.apply(
            lambda v: str(v.cluster_security_group_id or "")
        )
        self.kms_key_arn = key.arn
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "endpoint": self.endpoint,
                "oidc_provider_arn": self.oidc_provider_arn,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _irsa_role(
        self,
        logical: str,
        role_name: str,
        oidc: aws.iam.OpenIdConnectProvider,
        issuer: pulumi.Output[str],
        service_account: tuple[str, str],
    ) -> aws.iam.Role:
        ns, sa = service_account
        return aws.iam.Role(
            logical,
            name=role_name,
            assume_role_policy=pulumi.Output.all(oidc.arn, issuer).apply(
                lambda a: irsa_trust_policy(a[0], a[1], ns, sa)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _node_group(
        self,
        spec: ClusterSpec,
        subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
        pool: NodePoolSpec,
        cluster: aws.eks.Cluster,
        node_role: aws.iam.Role,
        depends_on: list[pulumi.Resource],
    ) -> aws.eks.NodeGroup:
        template_tags = autoscaler_node_template_tags(spec.name, pool)
        group = aws.eks.NodeGroup(
            pool.name,
            cluster_name=cluster.name,
            node_group_name=pool.name,
            node_role_arn=node_role.arn,
            subnet_ids=subnet_ids,
            version=spec.kubernetes_version,
            ami_type=ami_type(pool),
            capacity_type=pool.capacity_type,
            instance_types=list(pool.instance_types),
            disk_size=pool.disk_gib,
            labels=dict(pool.labels),
            taints=[
                aws.eks.NodeGroupTaintArgs(key=t.key, value=t.value, effect=TAINT_EFFECTS[t.effect])
                for t in pool.taints
            ],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=pool.min_size, max_size=pool.max_size, desired_size=pool.desired_size
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            tags={"Name": pool.name, "dsenv:tier": pool.tier, **template_tags},
            # the autoscaler owns the desired size once the group exists
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=depends_on, ignore_changes=["scalingConfig.desiredSize"]
            ),
        )
        # Managed node groups do not copy their tags to the Auto Scaling group, where the
        # autoscaler reads node templates when a group is at zero.
        asg_name = group.resources.apply(
            lambda rs: rs[0].autoscaling_groups[0].name if rs and rs[0].autoscaling_groups else ""
        )
        for key, value in template_tags.items():
            if "/node-template/" not in key:
                continue  # EKS tags the group for discovery itself
            aws.autoscaling.Tag(
                f"{pool.name}-{key.rsplit('/node-template/', 1)[1].replace('/', '-')}",
                autoscaling_group_name=asg_name,
                tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return group
