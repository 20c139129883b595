"""Team storage: S3 buckets (data, artifacts) and the ECR repository for the team image.

Buckets: all four public-access blocks, SSE-KMS with bucket keys, versioning, bucket-owner
ownership (ACLs off), a TLS-only policy, lifecycle hygiene; protected from deletion.
ECR: scan on push, immutable tags, KMS encryption, a lifecycle policy; protected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from dsenv.capabilities import component_type
from dsenv.spec.aws import BucketSpec

NONCURRENT_VERSION_DAYS = 90
UNTAGGED_IMAGE_DAYS = 14
KEEP_TAGGED_IMAGES = 50


def tls_only_policy(bucket_arn: str) -> str:
    """Deny every request that does not arrive over TLS."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )


def ecr_lifecycle_policy() -> str:
    """Expire untagged layers quickly; keep the most recent tagged images."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "expire untagged images",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": UNTAGGED_IMAGE_DAYS,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": "keep the most recent images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": KEEP_TAGGED_IMAGES,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )


@dataclass
class StorageArgs:
    buckets: tuple[BucketSpec, ...]
    repository: str


class Storage(pulumi.ComponentResource):
    bucket_names: dict[str, pulumi.Output[str]]  # purpose -> bucket name
    bucket_arns: dict[str, pulumi.Output[str]]
    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("storage", "Storage"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket_names = {}
        self.bucket_arns = {}
        for spec in args.buckets:
            bucket = self._bucket(spec)
            self.bucket_names[spec.purpose] = bucket.bucket
            self.bucket_arns[spec.purpose] = bucket.arn

        repo = aws.ecr.Repository(
            args.repository.replace("/", "-"),
            name=args.repository,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True
            ),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")
            ],
            force_delete=False,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        aws.ecr.LifecyclePolicy(
            args.repository.replace("/", "-"),
            repository=repo.name,
            policy=ecr_lifecycle_policy(),
            opts=child,
        )
        self.repository_url = repo.repository_url
        self.repository_arn = repo.arn
        self.register_outputs(
            {"bucket_names": self.bucket_names, "repository_url": self.repository_url}
        )

    def _bucket(self, spec: BucketSpec) -> aws.s3.Bucket:
        child = pulumi.ResourceOptions(parent=self)
        name = spec.name
        bucket = aws.s3.Bucket(
            name,
            # The exact name, so the s3:// URIs a profile writes (model storage, data paths)
            # are known before the first `up`. S3 names are global: a taken name fails `up`.
            bucket=name,
            force_destroy=False,
            tags={"Name": name, "dsenv:purpose": spec.purpose},
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        block = aws.s3.BucketPublicAccessBlock(
            name,
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            name,
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            name,
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms"
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            name,
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            name,
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="hygiene",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=NONCURRENT_VERSION_DAYS
                    ),
                )
            ],
            # lifecycle rules on a versioned bucket need versioning settled first
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        # The policy waits for the public-access block: S3 rejects concurrent bucket-config writes.
        aws.s3.BucketPolicy(
            name,
            bucket=bucket.id,
            policy=bucket.arn.apply(tls_only_policy),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block]),
        )
        return bucket
