"""IAM roles for service accounts (IRSA): one role per workload, least privilege.

Policy documents are built by pure functions returning JSON (no invoke), so tests and
`dsenv check` can lint them offline; the component only wires ARNs into them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from dsenv.capabilities import component_type
from dsenv.spec.aws import IdentitySpec, WorkloadRole

VERSION = "2012-10-17"
STS_AUDIENCE = "sts.amazonaws.com"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": VERSION, "Statement": list(statements)}, sort_keys=True)


def service_principal_trust(service: str, source_account: str | None = None) -> str:
    """Trust policy for an AWS service principal (EKS, EC2, flow logs, EMR Serverless)."""
    stmt: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        # confused-deputy guard: only this account's resources may use the role
        stmt["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return _doc(stmt)


def irsa_trust_policy(provider_arn: str, issuer: str, namespace: str, service_account: str) -> str:
    """Only `namespace/service_account`, presenting an STS-audience token, may assume."""
    host = issuer.removeprefix("https://")
    return _doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                    f"{host}:aud": STS_AUDIENCE,
                }
            },
        }
    )


def _bucket_read(sid: str, bucket_arn: str) -> list[dict[str, Any]]:
    return [
        {
            "Sid": f"{sid}List",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": bucket_arn,
        },
        {
            "Sid": f"{sid}Read",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"{bucket_arn}/*",
        },
    ]


def _bucket_read_write(sid: str, bucket_arn: str) -> list[dict[str, Any]]:
    return [
        {
            "Sid": f"{sid}List",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            "Resource": bucket_arn,
        },
        {
            "Sid": f"{sid}ReadWrite",
            "Effect": "Allow",
            "Action": [
                "s3:AbortMultipartUpload",
                "s3:DeleteObject",
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
            ],
            "Resource": f"{bucket_arn}/*",
        },
    ]


def workspaces_policy(data_bucket_arn: str, artifacts_bucket_arn: str) -> str:
    return _doc(
        *_bucket_read_write("Data", data_bucket_arn),
        *_bucket_read_write("Artifacts", artifacts_bucket_arn),
    )


def spark_policy(data_bucket_arn: str, artifacts_bucket_arn: str) -> str:
    return _doc(
        *_bucket_read_write("Data", data_bucket_arn),
        *_bucket_read("Artifacts", artifacts_bucket_arn),
    )


def serving_policy(artifacts_bucket_arn: str, model_uris: Sequence[str] = ()) -> str:
    """Read-only: the artifacts bucket, plus exactly the S3 prefixes the models name."""
    statements = _bucket_read("Artifacts", artifacts_bucket_arn)
    for i, uri in enumerate(sorted(u for u in model_uris if u.startswith("s3://"))):
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        prefix = key.rstrip("/")
        statements.append(
            {
                "Sid": f"Model{i}List",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
            }
        )
        statements.append(
            {
                "Sid": f"Model{i}Read",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/{prefix}/*"
                if prefix
                else f"arn:aws:s3:::{bucket}/*",
            }
        )
    return _doc(*statements)


def runners_policy(artifacts_bucket_arn: str) -> str:
    """The artifacts bucket, read and write. No registry push: a runner pod runs under
    Pod Security `restricted` with no container engine, so nothing on it can build an image
    (the team image is built by `dsenv image workflow` on the CI provider's own runners)."""
    return _doc(*_bucket_read_write("Artifacts", artifacts_bucket_arn))


def kafka_client_policy(region: str, account: str, cluster_name: str) -> str:
    """MSK IAM access for a workload: connect, create, read and write the team cluster's topics and
    consumer groups. ARNs are built from the cluster name (the UUID part is a wildcard) so
    workload roles do not wait on the MSK cluster."""
    base = f"arn:aws:kafka:{region}:{account}"
    return _doc(
        {
            "Sid": "Connect",
            "Effect": "Allow",
            "Action": ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
            "Resource": f"{base}:cluster/{cluster_name}/*",
        },
        {
            "Sid": "Topics",
            "Effect": "Allow",
            # CreateTopic: MSK has no topic API and auto-creation is off, so the team's
            # clients create their topics (declared topics are refused at validate)
            "Action": [
                "kafka-cluster:CreateTopic",
                "kafka-cluster:DescribeTopic",
                "kafka-cluster:ReadData",
                "kafka-cluster:WriteData",
            ],
            "Resource": f"{base}:topic/{cluster_name}/*",
        },
        {
            "Sid": "Groups",
            "Effect": "Allow",
            "Action": ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
            "Resource": f"{base}:group/{cluster_name}/*",
        },
    )


@dataclass
class IdentityArgs:
    identity: IdentitySpec
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    data_bucket_arn: pulumi.Input[str]
    artifacts_bucket_arn: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]


def _policy_for(purpose: str, args: IdentityArgs) -> pulumi.Output[str]:
    if purpose in ("workspaces", "pipelines"):
        return pulumi.Output.all(args.data_bucket_arn, args.artifacts_bucket_arn).apply(
            lambda a: workspaces_policy(a[0], a[1])
        )
    if purpose == "spark":
        return pulumi.Output.all(args.data_bucket_arn, args.artifacts_bucket_arn).apply(
            lambda a: spark_policy(a[0], a[1])
        )
    if purpose == "serving":
        return pulumi.Output.from_input(args.artifacts_bucket_arn).apply(
            lambda a: serving_policy(a, args.identity.model_uris)
        )
    if purpose == "runners":
        return pulumi.Output.from_input(args.artifacts_bucket_arn).apply(runners_policy)
    raise ValueError(f"no policy for workload {purpose!r}")


def _trust_for(role: WorkloadRole, args: IdentityArgs) -> pulumi.Output[str]:
    return pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
        lambda a: irsa_trust_policy(a[0], a[1], role.namespace, role.service_account)
    )


def _kafka_policy_for(args: IdentityArgs, cluster: str) -> pulumi.Output[str]:
    region = args.identity.region
    return pulumi.Output.from_input(args.account_id).apply(
        lambda account: kafka_client_policy(region, account, cluster)
    )


class Identity(pulumi.ComponentResource):
    """One IRSA role per workload, with an inline least-privilege policy."""

    role_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("identity", "Identity"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role_arns = {}
        kafka = args.identity.kafka_cluster
        for w in args.identity.roles:
            role = aws.iam.Role(
                f"{name}-{w.purpose}",
                name=w.role_name,
                description=f"dsenv: {w.purpose} ({w.namespace}/{w.service_account})",
                assume_role_policy=_trust_for(w, args),
                max_session_duration=3600,
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{name}-{w.purpose}", role=role.id, policy=_policy_for(w.purpose, args), opts=child
            )
            if w.kafka_client and kafka:
                aws.iam.RolePolicy(
                    f"{name}-{w.purpose}-kafka",
                    role=role.id,
                    policy=_kafka_policy_for(args, kafka),
                    opts=child,
                )
            self.role_arns[w.purpose] = role.arn
        self.register_outputs({f"{k}_role_arn": v for k, v in self.role_arns.items()})
