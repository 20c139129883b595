"""The dsenv Pulumi program: one EnvironmentSpec in, every resource of the team out.

The same function runs under `pulumi up` (stacks/__main__.py), under the Automation API
(`dsenv up`) and under the SDK's mock runtime (`dsenv plan` and the tests).

Target aws: network, cluster, storage and identity first, then the optional AWS engines
(EMR, MSK), then the in-cluster capabilities on the Kubernetes provider built from the
cluster. Target kubernetes: only the in-cluster capabilities, on the kubeconfig context the
profile names; no `aws:` resource at all.

Dependency shape: each in-cluster capability depends on the team namespace (and, on aws,
on its IRSA role); capabilities never depend on each other, so the engine creates them in
parallel. The wait on the namespace is enforced through the capabilities' Kubernetes
provider (see `Platform.team_provider`), because a component's `depends_on` does not
reach the resources inside it. Every AWS resource goes through one explicit provider that
sets the region and the team's tags as default tags, so no taggable resource can miss them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from dsenv.spec.model import EnvironmentSpec
from dsenv.stacks.components import kube
from dsenv.stacks.components.cluster import Cluster, ClusterArgs
from dsenv.stacks.components.emr import Emr, EmrArgs
from dsenv.stacks.components.identity import Identity, IdentityArgs
from dsenv.stacks.components.kafka import StrimziKafka, StrimziKafkaArgs
from dsenv.stacks.components.msk import Msk, MskArgs
from dsenv.stacks.components.namespace import TeamNamespace, TeamNamespaceArgs
from dsenv.stacks.components.network import Network, NetworkArgs
from dsenv.stacks.components.pipelines import Pipelines, PipelinesArgs
from dsenv.stacks.components.pipelines_emr import EmrSchedules, EmrSchedulesArgs
from dsenv.stacks.components.runners import Runners, RunnersArgs
from dsenv.stacks.components.serving import Serving, ServingArgs
from dsenv.stacks.components.spark import SparkOperator, SparkOperatorArgs
from dsenv.stacks.components.storage import Storage, StorageArgs
from dsenv.stacks.components.workspaces import Workspaces, WorkspacesArgs


@dataclass
class AwsBase:
    """The AWS foundation the optional AWS engines build on."""

    provider: aws.Provider
    network: Network
    cluster: Cluster
    storage: Storage


@dataclass
class Platform:
    """What the in-cluster capabilities need from the target."""

    k8s_provider: k8s.Provider  # the cluster's API: the team namespace goes through it
    kubeconfig: pulumi.Output[str] | None = None  # aws: the cluster's kubeconfig (secret)
    context: str | None = None  # kubernetes: the kubeconfig context
    image: pulumi.Input[str] | None = None  # None: each capability's image from the spec
    role_arns: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    capabilities_after: list[pulumi.Resource] = field(default_factory=list)
    aws: AwsBase | None = None

    def team_provider(self, namespace: TeamNamespace) -> k8s.Provider:
        """The provider every capability uses. A component's `depends_on` does not reach
        its children, but every resource waits for its provider: this provider depends on
        the namespace (and on aws on the node groups, addons and StorageClass), so no
        capability resource can be created before them."""
        return k8s.Provider(
            "team",
            kubeconfig=self.kubeconfig,
            context=self.context,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(depends_on=[namespace, *self.capabilities_after]),
        )


def program(spec: EnvironmentSpec, *, skip_await: bool = False) -> None:
    """`skip_await`: no Kubernetes object waits to become ready (`kube.skip_await`)."""
    pulumi.runtime.register_stack_transformation(kube.patch_force)
    if skip_await:
        pulumi.runtime.register_stack_transformation(kube.skip_await)
    if spec.provider == "aws":
        platform = aws_platform(spec)
    else:
        # no context: the kubeconfig's current one (the live commands name it before the
        # program runs, so the stack records which cluster it was deployed to)
        provider = k8s.Provider("cluster", context=spec.kube_context, enable_server_side_apply=True)
        platform = Platform(k8s_provider=provider, context=spec.kube_context)
        pulumi.export("kube_context", spec.kube_context)
        if spec.object_store is not None:
            pulumi.export("object_storage_endpoint", spec.object_store.endpoint)
            if spec.object_store.artifacts_bucket:
                pulumi.export("artifacts_bucket", spec.object_store.artifacts_bucket)
    namespace, team_provider = in_cluster(spec, platform)
    if platform.aws is not None:
        aws_engines(spec, platform.aws, namespace, team_provider, platform.role_arns)


def aws_platform(spec: EnvironmentSpec) -> Platform:
    """Network, cluster, storage and identity; exports their outputs."""
    assert spec.aws is not None
    provider = aws.Provider(
        "aws",
        region=spec.aws.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=spec.tags),
    )
    on_aws = pulumi.ResourceOptions(providers=[provider])
    network = Network("network", NetworkArgs(spec.aws.network), opts=on_aws)
    cluster = Cluster(
        "cluster",
        ClusterArgs(spec.aws.cluster, subnet_ids=network.private_subnet_ids, vpc_id=network.vpc_id),
        opts=on_aws,
    )
    storage = Storage("storage", StorageArgs(spec.aws.buckets, spec.aws.registry.name), opts=on_aws)
    account = aws.get_caller_identity_output(
        opts=pulumi.InvokeOutputOptions(provider=provider)
    ).account_id
    identity = Identity(
        "identity",
        IdentityArgs(
            spec.aws.identity,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            data_bucket_arn=storage.bucket_arns["data"],
            artifacts_bucket_arn=storage.bucket_arns["artifacts"],
            repository_arn=storage.repository_arn,
            account_id=account,
        ),
        opts=on_aws,
    )
    image = pulumi.Output.concat(storage.repository_url, ":", spec.image.tag)

    pulumi.export("cluster_name", cluster.cluster_name)
    # read before the next `up` to check this machine reaches the API (dsenv.live.reach)
    pulumi.export("cluster_endpoint", cluster.endpoint)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export("data_bucket", storage.bucket_names["data"])
    pulumi.export("artifacts_bucket", storage.bucket_names["artifacts"])
    pulumi.export("registry_url", storage.repository_url)
    pulumi.export("image", image)
    # Capabilities wait for the whole cluster component: node groups, addons, the default
    # StorageClass and the autoscaler, so charts find nodes and volumes.
    return Platform(
        k8s_provider=cluster.provider,
        kubeconfig=cluster.kubeconfig,
        image=image,
        role_arns=identity.role_arns,
        capabilities_after=[cluster],
        aws=AwsBase(provider=provider, network=network, cluster=cluster, storage=storage),
    )


def aws_engines(
    spec: EnvironmentSpec,
    base: AwsBase,
    namespace: TeamNamespace,
    team_provider: k8s.Provider,
    role_arns: dict[str, pulumi.Output[str]] | None = None,
) -> None:
    """Spark on EMR and Kafka on MSK, when the profile chooses them."""
    provider, network, cluster, storage = base.provider, base.network, base.cluster, base.storage
    on_aws = pulumi.ResourceOptions(providers=[provider])
    if spec.spark is not None and spec.spark.engine in ("emr-on-eks", "emr-serverless"):
        emr = Emr(
            "spark-emr",
            EmrArgs(
                spec.spark,
                data_bucket_arn=storage.bucket_arns["data"],
                artifacts_bucket_arn=storage.bucket_arns["artifacts"],
                cluster_name=cluster.cluster_name,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                artifacts_bucket=storage.bucket_names["artifacts"],
                # the workspaces submit the team's jobs
                submitter_role_arn=(role_arns or {}).get("workspaces"),
            ),
            # EMR on EKS writes RBAC into the team namespace: the cluster provider, after the namespace
            opts=pulumi.ResourceOptions(
                providers=[provider, team_provider],
                depends_on=[namespace] if spec.spark.engine == "emr-on-eks" else [],
            ),
        )
        pulumi.export("spark_job_role_arn", emr.job_role_arn)
        if emr.virtual_cluster_id is not None:
            pulumi.export("emr_virtual_cluster_id", emr.virtual_cluster_id)
        if emr.spark_conf is not None:
            pulumi.export("emr_spark_conf", emr.spark_conf)
        if emr.application_id is not None:
            pulumi.export("emr_serverless_application_id", emr.application_id)
        pipelines = spec.pipelines
        target = emr.virtual_cluster_id or emr.application_id
        if pipelines is not None and pipelines.scheduler_role and target is not None:
            EmrSchedules(
                "pipelines-emr",
                EmrSchedulesArgs(
                    pipelines,
                    spec.spark,
                    virtual_cluster_id=target,
                    job_role_arn=emr.job_role_arn,
                    artifacts_bucket=storage.bucket_names["artifacts"],
                    account_id=aws.get_caller_identity_output(
                        opts=pulumi.InvokeOutputOptions(provider=provider)
                    ).account_id,
                ),
                opts=on_aws,
            )

    if spec.kafka is not None and spec.kafka.engine in ("msk", "msk-serverless"):
        msk = Msk(
            "kafka-msk",
            MskArgs(
                spec.kafka,
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                client_security_group_id=cluster.security_group_id,
                kms_key_arn=cluster.kms_key_arn,
            ),
            opts=on_aws,
        )
        pulumi.export("kafka_bootstrap", msk.bootstrap_brokers)


def in_cluster(spec: EnvironmentSpec, platform: Platform) -> tuple[TeamNamespace, k8s.Provider]:
    """The team namespace, then every capability of the profile beside each other."""
    namespace = TeamNamespace(
        "namespace",
        TeamNamespaceArgs(spec.namespace),
        opts=pulumi.ResourceOptions(providers=[platform.k8s_provider]),
    )
    pulumi.export("namespace", namespace.name)
    team_provider = platform.team_provider(namespace)
    opts = pulumi.ResourceOptions(providers=[team_provider], depends_on=[namespace])
    roles = platform.role_arns

    if spec.workspaces is not None:
        ws = spec.workspaces
        # the registry image on aws, unless the profile names its own workspace image
        image = platform.image if ws.image_from_registry and platform.image else ws.image
        # on aws the hub's certificate and its validation record go through the AWS provider
        ws_providers: list[pulumi.ProviderResource] = [team_provider]
        if platform.aws is not None:
            ws_providers.append(platform.aws.provider)
        workspaces = Workspaces(
            "workspaces",
            WorkspacesArgs(ws, image=image, role_arn=roles.get("workspaces")),
            opts=pulumi.ResourceOptions(providers=ws_providers, depends_on=[namespace]),
        )
        pulumi.export("hub_url", workspaces.hub_url)
    if spec.spark is not None and spec.spark.engine == "operator":
        SparkOperator(
            "spark",
            # Spark's own image, pinned per Spark version (spec/versions.py `spark_image`)
            SparkOperatorArgs(spec.spark, image=spec.spark.image, role_arn=roles.get("spark")),
            opts=opts,
        )
    if spec.kafka is not None and spec.kafka.engine == "strimzi":
        kafka = StrimziKafka("kafka", StrimziKafkaArgs(spec.kafka), opts=opts)
        pulumi.export("kafka_bootstrap", kafka.bootstrap_servers)
    if spec.runners is not None:
        runners = Runners(
            "runners",
            RunnersArgs(
                spec.runners,
                image=platform.image or spec.runners.image,
                role_arn=roles.get("runners"),
            ),
            opts=opts,
        )
        pulumi.export("runner_scale_sets", runners.scale_sets)
    if spec.serving is not None:
        serving = Serving(
            "serving", ServingArgs(spec.serving, role_arn=roles.get("serving")), opts=opts
        )
        pulumi.export("serving_endpoints", serving.endpoints)
    if spec.pipelines is not None:
        Pipelines(
            "pipelines",
            PipelinesArgs(
                spec.pipelines,
                image=platform.image or spec.pipelines.image,
                spark=spec.spark,
                role_arn=roles.get("pipelines"),
            ),
            opts=opts,
        )
    if spec.provider == "kubernetes":
        pulumi.export("image", spec.image.ref)
    return namespace, team_provider
