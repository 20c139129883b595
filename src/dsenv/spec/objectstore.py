"""Object storage on target kubernetes: an S3-compatible store the profile references (an
endpoint and the name of a credentials secret), and what every workload needs to reach it.

dsenv never reads the credentials: pods get them through `secretKeyRef`s to the named secret,
whose keys are AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Those are the names the AWS SDKs,
the AWS CLI, MLflow and Hadoop's S3A connector read from the environment, and the names KServe's
storage initializer looks for in a service account's secrets (`credentials.s3.s3AccessKeyIDName`
and `s3SecretAccessKeyName` in KServe's `inferenceservice-config`).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dsenv.profile.model import Team

ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"
#: KServe's storage initializer reads these annotations of the credentials secret
#: (`pkg/credentials/s3/s3_secret.go`); without them it falls back to its cluster-wide config.
KSERVE_ENDPOINT_ANNOTATION = "serving.kserve.io/s3-endpoint"
KSERVE_HTTPS_ANNOTATION = "serving.kserve.io/s3-usehttps"


@dataclass(frozen=True)
class ObjectStoreSpec:
    endpoint: str  # http(s)://host[:port]
    credentials_secret: str  # secret name in the namespace of each workload
    region: str
    artifacts_bucket: str | None
    host: str
    port: int
    https: bool
    #: the store is a Service of this cluster (`<svc>.<namespace>.svc[.cluster.local]`): its
    #: namespace, for a NetworkPolicy peer (an ipBlock does not select pods on every CNI)
    service_namespace: str | None = None

    @property
    def artifacts_uri(self) -> str | None:
        return f"s3://{self.artifacts_bucket}" if self.artifacts_bucket else None

    @property
    def needs_egress_policy(self) -> bool:
        """HTTPS to an outside address is open in every team namespace already."""
        return self.service_namespace is not None or self.port != 443

    def env(self) -> list[dict[str, Any]]:
        """Environment of a container that uses the store: the endpoint for the AWS SDKs
        (`AWS_ENDPOINT_URL`, honoured by boto3 and the AWS CLI) and MLflow, the region, the
        credentials by reference, and where the team's artifacts go."""

        def secret(key: str) -> dict[str, Any]:
            ref = {"name": self.credentials_secret, "key": key}
            return {"name": key, "valueFrom": {"secretKeyRef": ref}}

        env = [
            {"name": "AWS_ENDPOINT_URL", "value": self.endpoint},
            {"name": "MLFLOW_S3_ENDPOINT_URL", "value": self.endpoint},
            {"name": "AWS_DEFAULT_REGION", "value": self.region},
            {"name": "AWS_REGION", "value": self.region},
            secret(ACCESS_KEY_ID),
            secret(SECRET_ACCESS_KEY),
        ]
        if self.artifacts_uri:
            env.append({"name": "DSENV_ARTIFACTS_URI", "value": self.artifacts_uri})
        return env

    def spark_conf(self) -> dict[str, str]:
        """Hadoop S3A on the store: the endpoint, path-style addressing (what MinIO and Ceph
        serve without wildcard DNS); the credentials come from the environment, which S3A's
        default provider chain reads."""
        return {
            "spark.hadoop.fs.s3a.endpoint": self.endpoint,
            "spark.hadoop.fs.s3a.endpoint.region": self.region,
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.connection.ssl.enabled": "true" if self.https else "false",
        }


def expand(team: Team) -> ObjectStoreSpec | None:
    store = team.target.object_storage
    if store is None or team.target.provider != "kubernetes":
        return None
    url = urllib.parse.urlsplit(store.endpoint)
    https = url.scheme == "https"
    host = url.hostname or ""
    labels = host.split(".")
    in_cluster = len(labels) >= 3 and (
        labels[2:] == ["svc"] or labels[2:] == ["svc", "cluster", "local"]
    )
    return ObjectStoreSpec(
        endpoint=store.endpoint,
        credentials_secret=store.credentials_secret,
        region=store.region,
        artifacts_bucket=store.artifacts_bucket,
        host=host,
        port=url.port or (443 if https else 80),
        https=https,
        service_namespace=labels[1] if in_cluster else None,
    )
