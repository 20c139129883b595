"""What every workspace gets to use the team's other capabilities as a client: files mounted
read-only and environment variables, decided once here and written by the hub's values.

- Spark (engine operator): the SparkApplication template at `/etc/dsenv/spark`, so
  `kubectl apply -f $SPARK_APPLICATION_TEMPLATE` submits it unchanged;
- Kafka (engine strimzi): the bootstrap address, SASL settings and the password of the
  workspaces' KafkaUser (from the Secret Strimzi's User Operator writes, named like the user,
  key `password`), and the cluster CA (the Secret `<cluster>-cluster-ca-cert`, key `ca.crt`)
  at `/etc/dsenv/kafka/ca.crt`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from dsenv.spec.pipelines import EXAMPLE_KEY, EXAMPLES_CONFIGMAP, EXAMPLES_MOUNT
from dsenv.spec.spark import CLIENT_DIR as SPARK_DIR
from dsenv.spec.spark import TEMPLATE_CONFIGMAP, TEMPLATE_KEY

if TYPE_CHECKING:
    from dsenv.spec.kafka import KafkaSpec
    from dsenv.spec.spark import SparkSpec

KAFKA_DIR = "/etc/dsenv/kafka"
KAFKA_CA_KEY = "ca.crt"
KAFKA_PASSWORD_KEY = "password"  # Strimzi's SCRAM-SHA-512 user secret


@dataclass(frozen=True)
class ClientVolume:
    name: str  # the pod's volume name
    kind: Literal["configMap", "secret"]
    source: str  # the ConfigMap or Secret
    mount_path: str
    keys: tuple[str, ...]  # the keys mounted (each as a file of its name)

    def volume(self) -> dict[str, Any]:
        items = [{"key": k, "path": k} for k in self.keys]
        if self.kind == "configMap":
            return {"name": self.name, "configMap": {"name": self.source, "items": items}}
        return {"name": self.name, "secret": {"secretName": self.source, "items": items}}

    def mount(self) -> dict[str, Any]:
        return {"name": self.name, "mountPath": self.mount_path, "readOnly": True}


@dataclass(frozen=True)
class ClientEnv:
    """One environment variable: a value, or a key of a Secret."""

    name: str
    value: str = ""
    secret: str = ""  # set: the value is this Secret's `key`
    key: str = ""

    def manifest(self) -> dict[str, Any]:
        if self.secret:
            ref = {"name": self.secret, "key": self.key}
            return {"name": self.name, "valueFrom": {"secretKeyRef": ref}}
        return {"name": self.name, "value": self.value}


@dataclass(frozen=True)
class ClientAccess:
    volumes: tuple[ClientVolume, ...] = ()
    env: tuple[ClientEnv, ...] = ()

    def env_manifests(self) -> list[dict[str, Any]]:
        return [e.manifest() for e in self.env]


def _value(name: str, value: str) -> ClientEnv:
    return ClientEnv(name, value)


def expand(
    spark: SparkSpec | None, kafka: KafkaSpec | None, pipelines: bool = False
) -> ClientAccess:
    volumes: list[ClientVolume] = []
    env: list[ClientEnv] = []
    if pipelines:
        # how to trigger a job or submit a workflow from a notebook
        volumes.append(
            ClientVolume(
                "pipelines-examples",
                "configMap",
                EXAMPLES_CONFIGMAP,
                EXAMPLES_MOUNT,
                (EXAMPLE_KEY,),
            )
        )
    if spark is not None and spark.engine == "operator":
        volumes.append(
            ClientVolume("dsenv-spark", "configMap", TEMPLATE_CONFIGMAP, SPARK_DIR, (TEMPLATE_KEY,))
        )
        env.append(_value("SPARK_APPLICATION_TEMPLATE", f"{SPARK_DIR}/{TEMPLATE_KEY}"))
        env.append(_value("SPARK_NAMESPACE", spark.namespace))
    if kafka is not None and kafka.engine == "strimzi" and kafka.workspace_user:
        volumes.append(
            ClientVolume("dsenv-kafka-ca", "secret", kafka.ca_secret, KAFKA_DIR, (KAFKA_CA_KEY,))
        )
        env += [
            _value("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap),
            _value("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            _value("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            _value("KAFKA_SASL_USERNAME", kafka.workspace_user),
            ClientEnv("KAFKA_SASL_PASSWORD", secret=kafka.workspace_user, key=KAFKA_PASSWORD_KEY),
            _value("KAFKA_SSL_CA_LOCATION", f"{KAFKA_DIR}/{KAFKA_CA_KEY}"),
        ]
    return ClientAccess(tuple(volumes), tuple(env))
