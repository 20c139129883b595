"""Kafka on Amazon MSK: provisioned (IAM auth, TLS only, encrypted at rest with the team KMS
key) or serverless, in the private subnets, reachable only from the EKS cluster.

MSK has no API for topics: a profile that declares topics or users for MSK is refused at
validate (`profile/checks.py`), and the team's clients create their topics with their IAM
role (`kafka-cluster:CreateTopic`; auto-creation stays off, so a typo never makes a topic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from dsenv.capabilities import component_type
from dsenv.spec.kafka import KafkaSpec

IAM_PORT = 9098
BROKER_LOG_RETENTION_DAYS = 30


def msk_kafka_version(version: str) -> str:
    """MSK names KRaft releases `<major>.<minor>.x.kraft` from Kafka 4 on (ZooKeeper is gone)."""
    major, minor, *_ = version.split(".")
    return f"{major}.{minor}.x.kraft" if int(major) >= 4 else version


def server_properties(brokers: int, min_insync_replicas: int) -> str:
    replication = min(3, brokers)
    return "\n".join(
        [
            "auto.create.topics.enable=false",
            f"default.replication.factor={replication}",
            f"min.insync.replicas={min_insync_replicas}",
            "unclean.leader.election.enable=false",
            "",
        ]
    )


@dataclass
class MskArgs:
    kafka: KafkaSpec  # engine msk or msk-serverless
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    client_security_group_id: pulumi.Input[str]  # the EKS cluster security group
    kms_key_arn: pulumi.Input[str]


class Msk(pulumi.ComponentResource):
    bootstrap_brokers: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: MskArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("kafka", "Msk"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kafka = args.kafka
        if kafka.engine == "strimzi":
            raise ValueError("Msk is for the msk and msk-serverless engines")
        group = aws.ec2.SecurityGroup(
            name,
            description="dsenv: Kafka brokers, reachable from the EKS cluster only",
            vpc_id=args.vpc_id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=IAM_PORT,
                    to_port=IAM_PORT,
                    security_groups=[args.client_security_group_id],
                    description="Kafka over TLS with IAM auth",
                ),
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="-1",
                    from_port=0,
                    to_port=0,
                    self=True,
                    description="broker to broker",
                ),
            ],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="-1", from_port=0, to_port=0, self=True, description="broker to broker"
                )
            ],
            tags={"Name": kafka.cluster_name},
            opts=child,
        )
        stateful = pulumi.ResourceOptions(parent=self, protect=True)
        if kafka.engine == "msk-serverless":
            serverless = aws.msk.ServerlessCluster(
                name,
                cluster_name=kafka.cluster_name,
                vpc_configs=[
                    aws.msk.ServerlessClusterVpcConfigArgs(
                        subnet_ids=args.subnet_ids, security_group_ids=[group.id]
                    )
                ],
                client_authentication=aws.msk.ServerlessClusterClientAuthenticationArgs(
                    sasl=aws.msk.ServerlessClusterClientAuthenticationSaslArgs(
                        iam=aws.msk.ServerlessClusterClientAuthenticationSaslIamArgs(enabled=True)
                    )
                ),
                opts=stateful,
            )
            self.bootstrap_brokers = serverless.bootstrap_brokers_sasl_iam
            self.arn = serverless.arn
        else:
            version = msk_kafka_version(kafka.kafka_version)
            config = aws.msk.Configuration(
                name,
                name=kafka.cluster_name,
                kafka_versions=[version],
                server_properties=server_properties(kafka.brokers, kafka.min_insync_replicas),
                opts=child,
            )
            logs = aws.cloudwatch.LogGroup(
                f"{name}-brokers",
                name=kafka.log_group,
                retention_in_days=BROKER_LOG_RETENTION_DAYS,
                opts=child,
            )
            cluster = aws.msk.Cluster(
                name,
                cluster_name=kafka.cluster_name,
                kafka_version=version,
                number_of_broker_nodes=kafka.brokers,
                broker_node_group_info=aws.msk.ClusterBrokerNodeGroupInfoArgs(
                    instance_type=kafka.instance_type,
                    client_subnets=args.subnet_ids,
                    security_groups=[group.id],
                    storage_info=aws.msk.ClusterBrokerNodeGroupInfoStorageInfoArgs(
                        ebs_storage_info=aws.msk.ClusterBrokerNodeGroupInfoStorageInfoEbsStorageInfoArgs(
                            volume_size=kafka.storage_gib
                        )
                    ),
                    connectivity_info=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoArgs(
                        public_access=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoPublicAccessArgs(
                            type="DISABLED"
                        )
                    ),
                ),
                client_authentication=aws.msk.ClusterClientAuthenticationArgs(
                    sasl=aws.msk.ClusterClientAuthenticationSaslArgs(iam=True),
                    unauthenticated=False,
                ),
                encryption_info=aws.msk.ClusterEncryptionInfoArgs(
                    encryption_at_rest_kms_key_arn=args.kms_key_arn,
                    encryption_in_transit=aws.msk.ClusterEncryptionInfoEncryptionInTransitArgs(
                        client_broker="TLS", in_cluster=True
                    ),
                ),
                configuration_info=aws.msk.ClusterConfigurationInfoArgs(
                    arn=config.arn, revision=config.latest_revision
                ),
                logging_info=aws.msk.ClusterLoggingInfoArgs(
                    broker_logs=aws.msk.ClusterLoggingInfoBrokerLogsArgs(
                        cloudwatch_logs=aws.msk.ClusterLoggingInfoBrokerLogsCloudwatchLogsArgs(
                            enabled=True, log_group=logs.name
                        )
                    )
                ),
                enhanced_monitoring="PER_BROKER",
                opts=stateful,
            )
            self.bootstrap_brokers = cluster.bootstrap_brokers_sasl_iam
            self.arn = cluster.arn
        self.register_outputs({"bootstrap_brokers": self.bootstrap_brokers, "arn": self.arn})
