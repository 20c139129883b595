"""Day one on AWS, on the captured graph: GPU nodes get NVIDIA's device plugin, the cluster has
metrics-server and enforces NetworkPolicies, and the declared admins and owners can reach the
cluster API."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from test_aws import capture_profile, one
from testkit import graph_of, spec_of

from dsenv.offline.graph import ResourceGraph
from dsenv.spec import fit, versions
from dsenv.spec.tiers import GPU_TAINT, TIER_LABEL

UPSTREAM = Path(__file__).resolve().parents[3] / "shared" / "upstream"
RELEASE = "kubernetes:helm.sh/v3:Release"


def releases(graph: ResourceGraph, chart: str) -> list[dict]:  # type: ignore[type-arg]
    return [r.inputs for r in graph.of_type(RELEASE) if r.inputs["chart"] == chart]


def test_gpu_tiers_get_the_pinned_device_plugin_on_their_nodes_only() -> None:
    for name, gpu_tiers in (("fraud", ["gpu"]), ("vision", ["a10g", "l4x4"])):
        (plugin,) = releases(graph_of(name), "nvidia-device-plugin")
        assert plugin["version"] == versions.NVIDIA_DEVICE_PLUGIN.version == "0.20.0"
        assert plugin["namespace"] == "kube-system"
        values = plugin["values"]
        terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        (term,) = terms["nodeSelectorTerms"]
        assert term["matchExpressions"] == [
            {"key": TIER_LABEL, "operator": "In", "values": gpu_tiers}
        ]
        # the GPU nodes' taint is tolerated, and every GPU node group carries that taint
        assert {"key": GPU_TAINT.key, "operator": "Exists", "effect": "NoSchedule"} in values[
            "tolerations"
        ]
        for group in graph_of(name).of_type("aws:eks/nodeGroup:NodeGroup"):
            gpu = group.inputs["labels"][TIER_LABEL] in gpu_tiers
            assert group.inputs["amiType"].endswith("_NVIDIA") == gpu
            assert bool(group.inputs.get("taints")) == gpu
        assert values["resources"]["requests"] == fit.NVIDIA_DEVICE_PLUGIN.requests()


def test_a_cluster_without_gpu_tiers_has_no_device_plugin(tmp_path: Path) -> None:
    _, graph = capture_profile(tmp_path, "")
    assert releases(graph, "nvidia-device-plugin") == []


def test_device_plugin_values_keep_the_chart_keys() -> None:
    path = UPSTREAM / "nvidia-device-plugin" / "values.yaml"
    if not path.exists():
        import pytest

        pytest.skip("../shared/upstream/nvidia-device-plugin not present")
    defaults = yaml.safe_load(path.read_text())
    (plugin,) = releases(graph_of("fraud"), "nvidia-device-plugin")
    for key in plugin["values"]:
        assert key in defaults, key  # no typo'd key the chart would ignore
    assert "enabled" in defaults["gfd"] and "nfd" in defaults


def test_metrics_server_is_installed_pinned() -> None:
    for name in ("fraud", "vision"):
        (server,) = releases(graph_of(name), "metrics-server")
        assert server["version"] == versions.METRICS_SERVER.version == "3.13.1"
        assert server["namespace"] == "kube-system"


def test_vpc_cni_enforces_network_policies_and_requests_what_fit_counts() -> None:
    graph = graph_of("fraud")
    addons = {a.inputs["addonName"]: a.inputs for a in graph.of_type("aws:eks/addon:Addon")}
    cni = json.loads(addons["vpc-cni"]["configurationValues"])
    assert cni["enableNetworkPolicy"] == "true"
    assert cni["resources"]["requests"] == fit.VPC_CNI.requests()
    proxy = json.loads(addons["kube-proxy"]["configurationValues"])
    assert proxy["resources"]["requests"] == fit.KUBE_PROXY.requests()
    # and the team really relies on NetworkPolicies
    assert graph.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")


def test_admins_and_owners_get_access_entries_owners_by_email_only_none() -> None:
    graph = graph_of("vision")
    spec = spec_of("vision")
    entries = {
        e.inputs["principalArn"]: e.inputs for e in graph.of_type("aws:eks/accessEntry:AccessEntry")
    }
    assert set(entries) == {
        "arn:aws:iam::111122223333:role/acme-platform-admin",
        "arn:aws:iam::111122223333:role/vision-dana",
    }  # erik is an owner by e-mail only: no entry
    assert all(e["type"] == "STANDARD" for e in entries.values())
    assocs = {
        a.inputs["principalArn"]: a.inputs
        for a in graph.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    admin = assocs["arn:aws:iam::111122223333:role/acme-platform-admin"]
    assert admin["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")
    assert admin["accessScope"] == {"type": "cluster"}
    owner = assocs["arn:aws:iam::111122223333:role/vision-dana"]
    assert owner["policyArn"].endswith("/AmazonEKSAdminPolicy")
    assert owner["accessScope"] == {"type": "namespace", "namespaces": [spec.namespace.name]}


def test_the_endpoint_is_public_only_from_the_declared_cidrs() -> None:
    for name, cidrs in (("fraud", ["198.51.100.0/24"]), ("vision", ["203.0.113.0/24"])):
        cluster = one(graph_of(name), "aws:eks/cluster:Cluster").inputs["vpcConfig"]
        assert cluster["endpointPublicAccess"] is True
        assert cluster["endpointPrivateAccess"] is True
        assert cluster["publicAccessCidrs"] == cidrs


def test_endpoint_private_stays_private(tmp_path: Path) -> None:
    _, graph = capture_profile(tmp_path, "")
    base = one(graph, "aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert base["endpointPublicAccess"] is False and "publicAccessCidrs" not in base


def test_a_hub_host_gets_an_alb_ingress_a_validated_certificate_and_a_dns_record() -> None:
    graph = graph_of("fraud")
    host = "hub.fraud.acme.example"
    (ingress,) = graph.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    meta, spec = ingress.inputs["metadata"], ingress.inputs["spec"]
    assert spec["ingressClassName"] == "alb"
    (rule,) = spec["rules"]
    assert rule["host"] == host
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "proxy-public", "port": {"number": 80}}  # the hub's proxy
    notes = meta["annotations"]
    assert notes["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert notes["external-dns.alpha.kubernetes.io/hostname"] == host
    assert notes["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    # the certificate for the host, validated through a record in the acme.example zone
    (cert,) = graph.of_type("aws:acm/certificate:Certificate")
    assert cert.inputs["domainName"] == host and cert.inputs["validationMethod"] == "DNS"
    (validation,) = graph.of_type("aws:acm/certificateValidation:CertificateValidation")
    assert notes["alb.ingress.kubernetes.io/certificate-arn"] == validation.inputs["certificateArn"]
    (record,) = graph.of_type("aws:route53/record:Record")
    assert record.inputs["type"] == "CNAME" and record.inputs["name"].endswith(f".{host}.")
    # the controller that serves the Ingress, and external-dns limited to the zone
    (lbc,) = releases(graph, "aws-load-balancer-controller")
    assert lbc["values"]["clusterName"] == "acme-fraud"
    assert lbc["version"] == versions.AWS_LOAD_BALANCER_CONTROLLER.version
    (dns,) = releases(graph, "external-dns")
    assert dns["values"]["domainFilters"] == ["acme.example"]
    assert dns["values"]["sources"] == ["ingress"] and dns["values"]["policy"] == "upsert-only"
    # public subnets are where an internet-facing ALB goes
    public = [
        s for s in graph.of_type("aws:ec2/subnet:Subnet") if "public" in s.inputs["tags"]["Name"]
    ]
    assert public and all(s.inputs["tags"]["kubernetes.io/role/elb"] == "1" for s in public)


def test_hub_url_is_what_a_person_types() -> None:
    from dsenv.offline.run import offline

    env = offline(Path(__file__).resolve().parents[2] / "profiles" / "fraud.yaml")
    assert env.spec.workspaces is not None and env.spec.workspaces.ingress is not None
    assert env.spec.workspaces.ingress.url == "https://hub.fraud.acme.example"
    assert env.spec.workspaces.auth is not None
    assert (
        env.spec.workspaces.auth.callback_url == "https://hub.fraud.acme.example/hub/oauth_callback"
    )


def test_without_a_host_the_ingress_answers_on_the_load_balancer_name(tmp_path: Path) -> None:
    _, graph = capture_profile(tmp_path, "workspaces: {default_tier: small}\n")
    (ingress,) = graph.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    assert "host" not in ingress.inputs["spec"]["rules"][0]
    assert not graph.of_type("aws:acm/certificate:Certificate")
    assert releases(graph, "external-dns") == []
