"""Target aws: the resources the program registers for the example profiles, run under the
SDK's mock runtime (`capture_spec`), checked for the security and mapping properties."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from testkit import graph_of, spec_of

from dsenv.offline.capture import capture_spec
from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.profile.load import load_team
from dsenv.spec.expand import expand_profile
from dsenv.spec.model import EnvironmentSpec
from dsenv.stacks.components.cluster import ami_type
from dsenv.stacks.components.emr import base36
from dsenv.stacks.components.msk import msk_kafka_version

AWS_PROFILES = ("fraud", "vision")


def one(graph: ResourceGraph, type_token: str) -> Resource:
    found = graph.of_type(type_token)
    assert len(found) == 1, f"{len(found)} {type_token}"
    return found[0]


def for_bucket(graph: ResourceGraph, type_token: str, bucket: Resource) -> Resource:
    """The bucket-configuration resource of `type_token` that points at `bucket`."""
    bucket_id = bucket.inputs["bucket"]
    found = [
        r
        for r in graph.of_type(type_token)
        if str(r.inputs.get("bucket", "")).startswith(bucket_id)
    ]
    assert len(found) == 1, f"{type_token} for {bucket.name}: {len(found)}"
    return found[0]


@pytest.mark.parametrize("profile", AWS_PROFILES)
def test_every_tier_becomes_a_node_group_with_its_labels_taints_capacity_and_bounds(
    profile: str,
) -> None:
    spec = spec_of(profile)
    groups = {
        r.inputs["nodeGroupName"]: r
        for r in graph_of(profile).of_type("aws:eks/nodeGroup:NodeGroup")
    }
    assert set(groups) == {p.name for p in spec.node_pools}
    for pool in spec.node_pools:
        g = groups[pool.name].inputs
        assert g["labels"]["dsenv.io/tier"] == pool.tier
        assert g["instanceTypes"] == list(pool.instance_types)
        assert g["capacityType"] == pool.capacity_type
        assert g["scalingConfig"] == {
            "minSize": pool.min_size,
            "maxSize": pool.max_size,
            "desiredSize": pool.desired_size,
        }
        assert g["diskSize"] == pool.disk_gib
        taints = g.get("taints", [])
        if pool.gpus:
            assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"} in taints
            assert g["amiType"] == "AL2023_x86_64_NVIDIA"
        else:
            assert taints == []
            assert g["amiType"] == "AL2023_x86_64_STANDARD"
        # the autoscaler owns the desired size after creation
        assert "scalingConfig.desiredSize" in groups[pool.name].ignore_changes


def test_spot_and_scale_to_zero_tiers_follow_the_profile() -> None:
    groups = {
        r.inputs["nodeGroupName"]: r.inputs
        for r in graph_of("vision").of_type("aws:eks/nodeGroup:NodeGroup")
    }
    assert groups["acme-vision-a10g"]["capacityType"] == "SPOT"
    assert groups["acme-vision-a10g"]["scalingConfig"]["minSize"] == 0
    assert groups["acme-vision-cpu"]["capacityType"] == "ON_DEMAND"
    assert groups["acme-vision-cpu"]["scalingConfig"]["minSize"] == 1


@pytest.mark.parametrize("profile", AWS_PROFILES)
def test_zero_node_groups_carry_node_template_tags_on_their_auto_scaling_group(
    profile: str,
) -> None:
    spec = spec_of(profile)
    graph = graph_of(profile)
    groups = {r.inputs["nodeGroupName"]: r for r in graph.of_type("aws:eks/nodeGroup:NodeGroup")}
    asg_tags: dict[str, dict[str, str]] = {}
    for tag in graph.of_type("aws:autoscaling/tag:Tag"):
        asg_tags.setdefault(tag.inputs["autoscalingGroupName"], {})[tag.inputs["tag"]["key"]] = (
            tag.inputs["tag"]["value"]
        )
        assert tag.inputs["tag"]["propagateAtLaunch"] is False
    prefix = "k8s.io/cluster-autoscaler/node-template"
    for pool in (p for p in spec.node_pools if p.min_size == 0):
        group = groups[pool.name]
        asg = next(name for name in asg_tags if pool.name in name)
        tags = asg_tags[asg]
        assert tags[f"{prefix}/label/dsenv.io/tier"] == pool.tier
        for t in pool.taints:
            assert tags[f"{prefix}/taint/{t.key}"] == f"{t.value}:{t.effect}"
        if pool.gpus:
            assert tags[f"{prefix}/resources/nvidia.com/gpu"] == str(pool.gpus)
        # discovery tags sit on the node group itself (EKS copies them to the ASG)
        assert group.inputs["tags"][f"k8s.io/cluster-autoscaler/{spec.aws.cluster.name}"] == "owned"  # type: ignore[union-attr]


def test_cluster_autoscaler_is_installed_with_its_own_irsa_role() -> None:
    graph = graph_of("fraud")
    release = next(
        r for r in graph.of_type("kubernetes:helm.sh/v3:Release") if r.name == "cluster-autoscaler"
    )
    values = release.inputs["values"]
    assert values["autoDiscovery"]["clusterName"] == "acme-fraud"
    role_arn = values["rbac"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    role = next(
        r
        for r in graph.of_type("aws:iam/role:Role")
        if r.inputs.get("name") == "acme-fraud-cluster-autoscaler"
    )
    assert role_arn.endswith(f"role/{role.inputs['name']}")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    cond = trust["Statement"][0]["Condition"]["StringEquals"]
    assert [v for k, v in cond.items() if k.endswith(":sub")] == [
        "system:serviceaccount:kube-system:cluster-autoscaler"
    ]


@pytest.mark.parametrize("profile", AWS_PROFILES)
def test_buckets_block_public_access_encrypt_version_and_require_tls(profile: str) -> None:
    graph = graph_of(profile)
    buckets = graph.of_type("aws:s3/bucket:Bucket")
    assert {b.inputs["bucket"] for b in buckets} == {b.name for b in spec_of(profile).aws.buckets}  # type: ignore[union-attr]
    for bucket in buckets:
        assert bucket.protect
        assert bucket.inputs.get("forceDestroy") is not True
        block = for_bucket(
            graph, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket
        ).inputs
        for flag in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        ):
            assert block[flag] is True, flag
        sse = for_bucket(
            graph,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            bucket,
        )
        rule = sse.inputs["rules"][0]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in ("aws:kms", "AES256")
        versioning = for_bucket(graph, "aws:s3/bucketVersioning:BucketVersioning", bucket)
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        ownership = for_bucket(
            graph, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket
        )
        assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
        policy = json.loads(
            for_bucket(graph, "aws:s3/bucketPolicy:BucketPolicy", bucket).inputs["policy"]
        )
        deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert deny[0]["Action"] == "s3:*" and deny[0]["Principal"] == "*"
        arn = f"arn:aws:s3:::{bucket.inputs['bucket']}"
        assert all(r.startswith(arn) for r in deny[0]["Resource"]) and len(deny[0]["Resource"]) == 2


@pytest.mark.parametrize("profile", AWS_PROFILES)
def test_registry_scans_on_push_and_has_immutable_tags(profile: str) -> None:
    repo = one(graph_of(profile), "aws:ecr/repository:Repository")
    assert repo.inputs["name"] == spec_of(profile).aws.registry.name  # type: ignore[union-attr]
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"
    assert repo.protect
    lifecycle = json.loads(
        one(graph_of(profile), "aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"]
    )
    assert {r["selection"]["tagStatus"] for r in lifecycle["rules"]} == {"untagged", "any"}


def test_endpoint_is_private_only_without_listed_cidrs(tmp_path: Path) -> None:
    _, graph = capture_profile(tmp_path, "")  # no public_access_cidrs
    vpc = one(graph, "aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc


def test_public_endpoint_is_open_only_to_the_listed_cidrs() -> None:
    vpc = one(graph_of("vision"), "aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]


@pytest.mark.parametrize("profile", AWS_PROFILES)
def test_cluster_encrypts_secrets_with_a_rotating_key_and_logs_the_control_plane(
    profile: str,
) -> None:
    graph = graph_of(profile)
    cluster = one(graph, "aws:eks/cluster:Cluster")
    key = one(graph, "aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.protect and cluster.protect
    enc = cluster.inputs["encryptionConfig"]
    assert enc["resources"] == ["secrets"]
    assert key.urn in cluster.dependencies
    assert set(cluster.inputs["enabledClusterLogTypes"]) >= {"api", "audit", "authenticator"}
    log_group = next(
        r
        for r in graph.of_type("aws:cloudwatch/logGroup:LogGroup")
        if r.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster"
    )
    assert log_group.inputs["retentionInDays"] > 0
    assert cluster.inputs["version"] == spec_of(profile).kubernetes_version


def test_network_spreads_private_subnets_over_zones_with_a_nat_each_and_flow_logs() -> None:
    spec = spec_of("fraud")
    graph = graph_of("fraud")
    assert one(graph, "aws:ec2/vpc:Vpc").inputs["enableDnsHostnames"] is True
    private = [
        s
        for s in graph.of_type("aws:ec2/subnet:Subnet")
        if "kubernetes.io/role/internal-elb" in s.inputs["tags"]
    ]
    public = [s for s in graph.of_type("aws:ec2/subnet:Subnet") if s not in private]
    assert sorted(s.inputs["cidrBlock"] for s in private) == sorted(
        spec.aws.network.private_subnet_cidrs
    )  # type: ignore[union-attr]
    assert len({s.inputs["availabilityZone"] for s in private}) == spec.aws.network.zones  # type: ignore[union-attr]
    for s in private:
        assert s.inputs["tags"]["kubernetes.io/cluster/acme-fraud"] == "shared"
        assert s.inputs.get("mapPublicIpOnLaunch") is False
    for s in public:
        # public subnets hold the NATs and the hub's internet-facing load balancer
        assert s.inputs["tags"]["kubernetes.io/role/elb"] == "1"
    nats = graph.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == spec.aws.network.zones  # type: ignore[union-attr]
    flow = one(graph, "aws:ec2/flowLog:FlowLog").inputs
    assert flow["trafficType"] == "ALL"
    assert one(graph, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").inputs.get(
        "ingress"
    ) in (None, [])


def test_cluster_has_managed_addons_a_default_encrypted_storage_class_and_an_oidc_provider() -> (
    None
):
    graph = graph_of("fraud")
    addons = {r.inputs["addonName"]: r for r in graph.of_type("aws:eks/addon:Addon")}
    assert {
        "vpc-cni",
        "coredns",
        "kube-proxy",
        "aws-ebs-csi-driver",
        "eks-pod-identity-agent",
    } <= set(addons)
    assert "serviceAccountRoleArn" in addons["aws-ebs-csi-driver"].inputs
    sc = one(graph, "kubernetes:storage.k8s.io/v1:StorageClass").inputs
    assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert sc["parameters"] == {"type": "gp3", "encrypted": "true"}
    oidc = one(graph, "aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
    assert oidc["clientIdLists"] == ["sts.amazonaws.com"]
    assert oidc["url"].startswith("https://oidc.eks.eu-west-1.amazonaws.com/id/")


@pytest.mark.parametrize("profile", AWS_PROFILES)
def test_stateful_resources_are_protected(profile: str) -> None:
    graph = graph_of(profile)
    stateful = (
        "aws:s3/bucket:Bucket",
        "aws:ecr/repository:Repository",
        "aws:eks/cluster:Cluster",
        "aws:kms/key:Key",
    )
    for token in stateful:
        found = graph.of_type(token)
        assert found and all(r.protect for r in found), token


@pytest.mark.parametrize("profile", AWS_PROFILES)
def test_kubeconfig_is_secret_in_the_provider_and_the_stack_outputs(profile: str) -> None:
    graph = graph_of(profile)
    providers = graph.of_type("pulumi:providers:kubernetes")
    assert len(providers) == 2  # the cluster's, and the capabilities' (see program.Platform)
    assert all(p.inputs["kubeconfig"] == "[secret]" for p in providers)
    assert graph.outputs["kubeconfig"] == "[secret]"
    # the token command, endpoint and CA never appear in a plain input
    text = json.dumps([r.inputs for r in graph])
    assert "get-token" not in text and "certificate-authority-data" not in text


def test_node_ami_follows_gpus_and_architecture() -> None:
    pool = spec_of("fraud").pool("small")
    from dataclasses import replace

    assert ami_type(pool) == "AL2023_x86_64_STANDARD"
    assert (
        ami_type(replace(pool, instance_types=("m7g.large", "c7gd.xlarge")))
        == "AL2023_ARM_64_STANDARD"
    )
    assert ami_type(replace(pool, gpus=1, instance_types=("g5.xlarge",))) == "AL2023_x86_64_NVIDIA"


# ---- optional engines through small profiles ----

ORG_TARGET = "target: {provider: aws, region: eu-west-1}"
BASE = f"""apiVersion: dsenv/v1
kind: Team
name: lab
{ORG_TARGET}
tiers:
  small: {{cpu: 1, memory: 6Gi, instance_types: [m7i.large], max_nodes: 3}}
"""


def capture_profile(tmp_path: Path, extra: str) -> tuple[EnvironmentSpec, ResourceGraph]:
    path = tmp_path / "lab.yaml"
    path.write_text(BASE + extra)
    spec = expand_profile(load_team(path))
    return spec, capture_spec(spec)


def policy_of(graph: ResourceGraph, role: Resource) -> dict[str, Any]:
    found = [
        p
        for p in graph.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.inputs["name"]
    ]
    assert len(found) == 1
    return json.loads(found[0].inputs["policy"])  # type: ignore[no-any-return]


def test_emr_on_eks_gets_a_virtual_cluster_on_the_team_namespace(tmp_path: Path) -> None:
    spec, graph = capture_profile(
        tmp_path, "spark: {engine: emr-on-eks, driver_tier: small, executor_tier: small}\n"
    )
    virtual = one(graph, "aws:emrcontainers/virtualCluster:VirtualCluster").inputs
    provider = virtual["containerProvider"]
    assert provider["type"] == "EKS" and provider["id"] == spec.aws.cluster.name  # type: ignore[union-attr]
    assert provider["info"]["eksInfo"]["namespace"] == spec.namespace.name
    assert not graph.of_type("dsenv:spark:SparkOperator")
    role = next(
        r for r in graph.of_type("aws:iam/role:Role") if r.inputs.get("name") == "lab-emr-job"
    )
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]
    (sub,) = trust["StringLike"].values()
    assert (
        sub
        == f"system:serviceaccount:lab:emr-containers-sa-*-*-123456789012-{base36('lab-emr-job')}"
    )
    assert list(trust["StringEquals"].values()) == ["sts.amazonaws.com"]
    entry = one(graph, "aws:eks/accessEntry:AccessEntry").inputs
    assert entry["principalArn"].endswith(":role/AWSServiceRoleForAmazonEMRContainers")
    binding = one(graph, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").inputs
    assert binding["metadata"]["namespace"] == "lab"
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "emr-containers"}
    ]
    # the RBAC lands in the team namespace, so it waits for it (through its provider)
    team_ns = next(
        r
        for r in graph.of_type("kubernetes:core/v1:Namespace")
        if r.inputs["metadata"]["name"] == "lab"
    )
    by_urn = graph.by_urn()
    for token in (
        "kubernetes:rbac.authorization.k8s.io/v1:Role",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    ):
        provider_ref = one(graph, token).provider
        assert provider_ref is not None
        assert team_ns.urn in by_urn[provider_ref.rsplit("::", 1)[0]].dependencies, token


def test_emr_serverless_application_runs_in_the_private_subnets(tmp_path: Path) -> None:
    spec, graph = capture_profile(
        tmp_path,
        "spark: {engine: emr-serverless, driver_tier: small, executor_tier: small, max_executors: 9}\n",
    )
    app = one(graph, "aws:emrserverless/application:Application").inputs
    assert app["type"] == "spark" and app["releaseLabel"] == spec.spark.emr_release  # type: ignore[union-attr]
    assert app["maximumCapacity"] == {
        "cpu": "10 vCPU",
        "memory": "65 GB",
    }  # (9 + 1) x 1 vCPU, 6 GiB
    private = {s.inputs["cidrBlock"]: s for s in graph.of_type("aws:ec2/subnet:Subnet")}
    private_urns = {private[c].urn for c in spec.aws.network.private_subnet_cidrs}  # type: ignore[union-attr]
    app_res = one(graph, "aws:emrserverless/application:Application")
    assert private_urns <= set(app_res.dependencies)
    sg = one(graph, "aws:ec2/securityGroup:SecurityGroup").inputs
    assert sg.get("ingress") in (None, [])
    # EMR Serverless has nothing in the cluster: it does not wait for the team namespace
    assert not {graph.by_urn()[d].capability for d in app_res.dependencies} & {"base", "cluster"}
    trust = json.loads(
        next(
            r for r in graph.of_type("aws:iam/role:Role") if r.inputs.get("name") == "lab-emr-job"
        ).inputs["assumeRolePolicy"]
    )
    assert trust["Statement"][0]["Principal"] == {"Service": "emr-serverless.amazonaws.com"}


def test_msk_uses_iam_auth_tls_the_cluster_key_and_accepts_only_the_cluster(tmp_path: Path) -> None:
    _, graph = capture_profile(tmp_path, "kafka: {engine: msk, brokers: 2, storage: 200Gi}\n")
    msk = one(graph, "aws:msk/cluster:Cluster")
    m = msk.inputs
    assert msk.protect
    assert m["numberOfBrokerNodes"] == 2
    assert m["clientAuthentication"]["sasl"]["iam"] is True
    assert m["clientAuthentication"].get("unauthenticated") is False
    assert m["encryptionInfo"]["encryptionInTransit"] == {"clientBroker": "TLS", "inCluster": True}
    key = one(graph, "aws:kms/key:Key")
    assert m["encryptionInfo"]["encryptionAtRestKmsKeyArn"].startswith("arn:aws:kms:")
    assert key.urn in msk.dependencies
    assert m["brokerNodeGroupInfo"]["storageInfo"]["ebsStorageInfo"]["volumeSize"] == 200
    sg = next(
        r for r in graph.of_type("aws:ec2/securityGroup:SecurityGroup") if r.name == "kafka-msk"
    ).inputs
    client_rules = [r for r in sg["ingress"] if not r.get("self")]
    assert client_rules == [
        {
            "description": "Kafka over TLS with IAM auth",
            "fromPort": 9098,
            "protocol": "tcp",
            "securityGroups": ["sg-0c1a2b3c4d5e6f708"],
            "toPort": 9098,
        }
    ]
    assert graph.outputs["kafka_bootstrap"].endswith(":9098")
    assert not graph.of_type("dsenv:kafka:StrimziKafka")
    # the team namespace's default-deny lets workloads reach MSK, and only inside the VPC
    egress = next(
        r
        for r in graph.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.inputs["metadata"]["name"] == "allow-msk-egress"
    ).inputs["spec"]["egress"]
    assert egress == [
        {
            "ports": [{"port": 9098, "protocol": "TCP"}],
            "to": [{"ipBlock": {"cidr": "10.40.0.0/16"}}],
        }
    ]


def test_msk_serverless_is_a_serverless_cluster_with_iam_auth(tmp_path: Path) -> None:
    _, graph = capture_profile(tmp_path, "kafka: {engine: msk-serverless}\n")
    cluster = one(graph, "aws:msk/serverlessCluster:ServerlessCluster")
    assert cluster.inputs["clientAuthentication"]["sasl"]["iam"]["enabled"] is True
    assert cluster.protect
    assert not graph.of_type("aws:msk/cluster:Cluster")
    assert graph.outputs["kafka_bootstrap"].endswith(":9098")


def test_msk_version_names_follow_the_service() -> None:
    assert msk_kafka_version("4.1.0") == "4.1.x.kraft"
    assert msk_kafka_version("3.6.0") == "3.6.0"


def test_base36_matches_the_emr_service_account_naming() -> None:
    encoded = base36("lab-emr-job")
    assert (
        int(encoded, 36).to_bytes((int(encoded, 36).bit_length() + 7) // 8, "big") == b"lab-emr-job"
    )
    assert encoded == encoded.lower()


def test_cluster_autoscaler_pods_meet_pod_security_restricted() -> None:
    from dsenv.stacks.components.podsecurity import check_container

    release = next(
        r
        for r in graph_of("fraud").of_type("kubernetes:helm.sh/v3:Release")
        if r.name == "cluster-autoscaler"
    )
    values = release.inputs["values"]
    assert (
        check_container(
            values["securityContext"], values["containerSecurityContext"], "cluster-autoscaler"
        )
        == []
    )
    assert values["image"]["tag"] == f"v{spec_of('fraud').kubernetes_version}.0"
