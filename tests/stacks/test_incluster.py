"""In-cluster components under the mock runtime: what each capability really registers."""

from __future__ import annotations

import copy
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from dsenv.spec import versions
from dsenv.stacks.components import podsecurity
from dsenv.stacks.components.workspaces import split_image

PROFILE_NAMES = sorted(
    p.stem for p in (Path(__file__).resolve().parents[2] / "profiles").glob("*.yaml")
)


def _by_kind(
    graph: Any, kind: str, kit: Any, namespace: str | None = None
) -> dict[str, dict[str, Any]]:
    return {
        m["metadata"]["name"]: m
        for m in (kit.manifest(r) for r in graph if r.type.endswith(f":{kind}"))
        if namespace is None or m["metadata"].get("namespace") == namespace
    }


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_team_namespace_enforces_restricted_pod_security(kit: Any, profile: str) -> None:
    spec = kit.spec_for(profile)
    ns = _by_kind(kit.in_cluster_graph(profile), "Namespace", kit)
    team = ns[spec.namespace.name]["metadata"]["labels"]
    for mode in ("enforce", "warn", "audit"):
        assert team[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    # operator and runner namespaces run dsenv-configured pods too: same enforcement
    for name, obj in ns.items():
        assert obj["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted", name


def test_quota_admits_every_tier_at_full_size(kit: Any) -> None:
    spec = kit.spec_for("fraud")
    quota = _by_kind(kit.in_cluster_graph("fraud"), "ResourceQuota", kit)["team-quota"]["spec"][
        "hard"
    ]
    # small 1.5 CPU x 10 + large 15 x 4 + gpu 7.5 x 2 = 90 CPU; gpu tier 1 GPU x 2 nodes
    assert quota["requests.cpu"] == quota["limits.cpu"] == "90000m"
    assert quota["requests.nvidia.com/gpu"] == "2"
    assert quota == spec.namespace.quota
    limits = _by_kind(kit.in_cluster_graph("fraud"), "LimitRange", kit)["team-limits"]["spec"][
        "limits"
    ][0]
    assert limits["max"] == {"cpu": "15000m", "memory": "114688Mi"}  # the largest tier
    assert "requests.nvidia.com/gpu" not in kit.spec_for("sandbox").namespace.quota


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_network_policy_denies_by_default_and_allows_only_what_is_needed(
    kit: Any, profile: str
) -> None:
    spec = kit.spec_for(profile)
    policies = {
        name: p["spec"]
        for name, p in _by_kind(
            kit.in_cluster_graph(profile), "NetworkPolicy", kit, spec.namespace.name
        ).items()
    }
    deny = policies["default-deny"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    dns = policies["allow-dns"]["egress"][0]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert dns["to"][0]["namespaceSelector"]["matchExpressions"][0]["values"] == ["kube-system"]
    https = policies["allow-https-egress"]["egress"][0]
    assert https["ports"] == [{"protocol": "TCP", "port": 443}]
    assert https["to"][0]["ipBlock"]["except"] == ["169.254.169.254/32"]
    assert "allow-hub-proxy-ingress" in policies  # every example profile has workspaces
    operators = "allow-from-operators" in policies
    assert operators == bool(
        (spec.kafka and spec.kafka.engine == "strimzi")
        or spec.serving
        or (spec.spark and spec.spark.engine == "operator")
    )
    if operators:
        allowed = policies["allow-from-operators"]["ingress"][0]["from"][0]["namespaceSelector"]
        names = allowed["matchExpressions"][0]["values"]
        assert names == sorted(spec.namespace.operator_namespaces)
        assert spec.namespace.name not in names
        if spec.spark is None or spec.spark.install_operator:  # each its own, per team
            assert all(n.startswith(f"{spec.namespace.name}-") for n in names)


def _hub_values(kit: Any, profile: str) -> dict[str, Any]:
    values: dict[str, Any] = kit.releases(kit.in_cluster_graph(profile))["jupyterhub"].inputs[
        "values"
    ]
    return values


def _offered(values: dict[str, Any], user: str) -> list[str]:
    """Run the hub's extraConfig snippet as JupyterHub would, for one user."""

    def get_config(key: str, default: Any = None) -> Any:
        node: Any = values
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    groups = values["hub"]["config"]["JupyterHub"]["load_groups"]
    config = types.SimpleNamespace(KubeSpawner=types.SimpleNamespace())
    fake_z2jh = types.ModuleType("z2jh")
    fake_z2jh.get_config = get_config  # type: ignore[attr-defined]
    saved = sys.modules.get("z2jh")
    sys.modules["z2jh"] = fake_z2jh
    try:
        exec(
            compile(values["hub"]["extraConfig"]["dsenv-profile-access"], "extraConfig", "exec"),
            {"c": config},
        )
    finally:
        if saved is None:
            del sys.modules["z2jh"]
        else:
            sys.modules["z2jh"] = saved
    member_of = [
        types.SimpleNamespace(name=g) for g, spec in groups.items() if user in spec["users"]
    ]
    spawner = types.SimpleNamespace(user=types.SimpleNamespace(name=user, groups=member_of))
    return [p["slug"] for p in config.KubeSpawner.profile_list(spawner)]


def test_hub_offers_each_tier_only_to_its_groups(kit: Any) -> None:
    values = _hub_values(kit, "fraud")
    assert _offered(values, "bob") == ["small"]  # analysts
    assert _offered(values, "alice") == ["small", "large", "gpu"]  # scientists
    with pytest.raises(Exception, match="mallory is in no group allowed a tier") as refused:
        _offered(values, "mallory")  # in no group: refused, never the default tier
    assert getattr(refused.value, "status_code", None) == 403
    assert values["hub"]["config"]["Authenticator"]["allowed_users"] == ["alice", "bob", "carol"]
    vision = _hub_values(kit, "vision")
    assert _offered(vision, "fay") == ["cpu"]
    assert _offered(vision, "dana") == ["cpu", "a10g", "l4x4"]


def test_hub_without_groups_offers_every_tier_to_everyone(kit: Any) -> None:
    values = _hub_values(kit, "sandbox")
    assert _offered(values, "anyone") == [
        p.tier for p in kit.spec_for("sandbox").workspaces.profiles
    ]


def test_hub_profiles_carry_tier_resources_and_gpu_scheduling(kit: Any) -> None:
    spec = kit.spec_for("fraud")
    profiles = {p["slug"]: p for p in _hub_values(kit, "fraud")["singleuser"]["profileList"]}
    gpu = profiles["gpu"]["kubespawner_override"]
    assert gpu["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert gpu["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
    ]
    assert gpu["node_selector"] == {"dsenv.io/tier": "gpu"}
    large = profiles["large"]["kubespawner_override"]
    assert large["cpu_guarantee"] == large["cpu_limit"] == 15
    assert large["mem_limit"] == spec.pool("large").memory_bytes
    assert "tolerations" not in large and "extra_resource_limits" not in large
    assert [slug for slug, p in profiles.items() if p.get("default")] == ["small"]


@pytest.mark.parametrize(
    ("profile", "timeout", "storage"),
    [("fraud", 1800, "50Gi"), ("sandbox", 7200, "10Gi"), ("vision", 3600, "100Gi")],
)
def test_hub_culls_idle_servers_and_sizes_user_storage_from_the_profile(
    kit: Any, profile: str, timeout: int, storage: str
) -> None:
    values = _hub_values(kit, profile)
    assert values["cull"]["enabled"] is True
    assert values["cull"]["timeout"] == timeout
    assert 0 < values["cull"]["every"] <= timeout // 4 or values["cull"]["every"] == 60
    assert values["singleuser"]["storage"]["capacity"] == storage
    assert (values["singleuser"]["uid"], values["singleuser"]["fsGid"]) == (1000, 100)


def test_hub_runs_the_team_image(kit: Any) -> None:
    spec = kit.spec_for("sandbox")
    image = _hub_values(kit, "sandbox")["singleuser"]["image"]
    assert f"{image['name']}:{image['tag']}" == spec.workspaces.image


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/fraud-workspace:abc123",
            ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/fraud-workspace", "abc123"),
        ),
        ("registry.local:5000/team/image", ("registry.local:5000/team/image", "latest")),
        (
            "quay.io/jupyter/minimal-notebook:2025-10-20",
            ("quay.io/jupyter/minimal-notebook", "2025-10-20"),
        ),
    ],
)
def test_image_reference_splits_into_name_and_tag(image: str, expected: tuple[str, str]) -> None:
    assert split_image(image) == expected


def test_workload_service_accounts_carry_their_role_on_aws_only(kit: Any) -> None:
    accounts = _by_kind(kit.in_cluster_graph("fraud"), "ServiceAccount", kit)
    expected = {
        "jupyter-user": "workspaces",
        "spark": "spark",
        "fraud-runner": "runners",
        "model-server": "serving",
    }
    role = "eks.amazonaws.com/role-arn"
    for name, workload in expected.items():
        annotations = accounts[name]["metadata"]["annotations"]
        assert annotations[role] == kit.role_arn(workload)
    assert _hub_values(kit, "fraud")["singleuser"]["serviceAccountName"] == "jupyter-user"
    sandbox = _by_kind(kit.in_cluster_graph("sandbox"), "ServiceAccount", kit)
    assert all(role not in sa["metadata"].get("annotations", {}) for sa in sandbox.values())


def test_spark_driver_role_grants_what_drivers_need_in_the_team_namespace_only(kit: Any) -> None:
    graph = kit.in_cluster_graph("fraud")
    role = _by_kind(graph, "Role", kit)["spark-driver"]
    assert role["metadata"]["namespace"] == "fraud"
    assert set(role["rules"][0]["resources"]) == {
        "pods",
        "services",
        "configmaps",
        "persistentvolumeclaims",
    }
    binding = _by_kind(graph, "RoleBinding", kit)["spark-driver"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "spark", "namespace": "fraud"}
    ]
    operator = kit.releases(graph)["spark-operator"].inputs
    assert operator["values"]["spark"]["jobNamespaces"] == ["fraud"]
    assert operator["namespace"] == "fraud-spark-operator"


def test_spark_template_runs_on_the_profile_tiers_with_dynamic_allocation(kit: Any) -> None:
    import yaml

    spec = kit.spec_for("fraud")
    configmap = _by_kind(kit.in_cluster_graph("fraud"), "ConfigMap", kit)[
        "spark-application-template"
    ]
    app = yaml.safe_load(configmap["data"]["sparkapplication.yaml"])["spec"]
    assert app["driver"]["nodeSelector"] == {"dsenv.io/tier": spec.spark.driver.tier}
    assert app["executor"]["nodeSelector"] == {"dsenv.io/tier": spec.spark.executor.tier}
    assert app["dynamicAllocation"]["maxExecutors"] == 20
    assert app["image"] == spec.spark.image
    assert app["driver"]["serviceAccount"] == "spark"


def test_kafka_topics_and_users_reach_their_custom_resources(kit: Any) -> None:
    spec = kit.spec_for("fraud")
    graph = kit.in_cluster_graph("fraud")
    topics = {t["spec"]["topicName"]: t for t in _by_kind(graph, "KafkaTopic", kit).values()}
    assert set(topics) == {t.name for t in spec.kafka.topics} == {"transactions", "fraud-scores"}
    assert topics["transactions"]["spec"]["partitions"] == 12
    assert topics["transactions"]["spec"]["config"]["retention.ms"] == 7 * 86400 * 1000
    assert topics["fraud-scores"]["spec"]["config"]["retention.ms"] == 30 * 86400 * 1000
    assert all(
        t["metadata"]["labels"]["strimzi.io/cluster"] == "fraud-kafka" for t in topics.values()
    )
    user = _by_kind(graph, "KafkaUser", kit)["scorer"]["spec"]
    assert user["authentication"] == {"type": "scram-sha-512"}
    topic_acls = {
        a["resource"]["name"]
        for a in user["authorization"]["acls"]
        if a["resource"]["type"] == "topic"
    }
    assert topic_acls == {"transactions", "fraud-scores"}
    kafka = _by_kind(graph, "Kafka", kit)["fraud-kafka"]
    assert kafka["metadata"]["annotations"] == {
        "strimzi.io/node-pools": "enabled",
        "strimzi.io/kraft": "enabled",
    }
    listener = kafka["spec"]["kafka"]["listeners"][0]
    assert (listener["port"], listener["tls"], listener["authentication"]["type"]) == (
        9093,
        True,
        "scram-sha-512",
    )
    assert kafka["spec"]["kafka"]["config"]["min.insync.replicas"] == 2
    pool = _by_kind(graph, "KafkaNodePool", kit)["dual-role"]["spec"]
    assert pool["replicas"] == 3 and set(pool["roles"]) == {"broker", "controller"}
    assert pool["storage"]["volumes"][0]["size"] == "100Gi"


def test_stateful_kafka_resources_are_protected(kit: Any) -> None:
    graph = kit.in_cluster_graph("fraud")
    protected = {r.type.rsplit(":", 1)[-1] for r in graph if r.protect}
    assert protected == {"Kafka", "KafkaNodePool"}


def test_models_reach_their_inference_services(kit: Any) -> None:
    spec = kit.spec_for("vision")
    services = _by_kind(kit.in_cluster_graph("vision"), "InferenceService", kit)
    assert set(services) == {m.name for m in spec.serving.models}
    for model in spec.serving.models:
        predictor = services[model.name]["spec"]["predictor"]
        assert predictor["model"]["modelFormat"]["name"] == model.framework
        assert predictor["model"]["storageUri"] == model.storage_uri
        assert (predictor["minReplicas"], predictor["maxReplicas"]) == (
            model.min_replicas,
            model.max_replicas,
        )
        assert predictor["serviceAccountName"] == "model-server"
        assert predictor["model"]["resources"]["limits"]["nvidia.com/gpu"] == "1"  # a10g tier
        assert predictor["tolerations"][0]["key"] == "nvidia.com/gpu"
    values = kit.releases(kit.in_cluster_graph("vision"))["kserve"].inputs["values"]
    assert values["kserve"]["controller"]["deploymentMode"] == "RawDeployment"


def test_runner_scale_sets_scale_to_zero_and_reference_credentials_by_name(kit: Any) -> None:
    spec = kit.spec_for("fraud")
    sets = kit.scale_set_releases(kit.in_cluster_graph("fraud"))
    assert [r.inputs["values"]["runnerScaleSetName"] for r in sets] == [
        s.name for s in spec.runners.scale_sets
    ]
    values = sets[0].inputs["values"]
    assert values["githubConfigUrl"] == "https://github.com/acme/fraud-models"
    assert (
        values["githubConfigSecret"] == spec.runners.credentials_secret
    )  # a name, not a token map
    assert isinstance(values["githubConfigSecret"], str)
    assert (values["minRunners"], values["maxRunners"]) == (0, 10)
    pod = values["template"]["spec"]
    assert pod["serviceAccountName"] == "fraud-runner"
    assert pod["nodeSelector"] == {"dsenv.io/tier": "small"}
    controller = kit.releases(kit.in_cluster_graph("fraud"))[
        "gha-runner-scale-set-controller"
    ].inputs
    assert controller["values"]["flags"]["watchSingleNamespace"] == spec.runners.namespace


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_charts_are_pinned_from_the_versions_module(kit: Any, profile: str) -> None:
    pinned = {c.name: c.version for c in vars(versions).values() if isinstance(c, versions.Chart)}
    for release in kit.in_cluster_graph(profile).of_type("kubernetes:helm.sh/v3:Release"):
        assert release.inputs["version"] == pinned[kit.chart_name(release)]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_pod_template_meets_restricted(kit: Any, profile: str) -> None:
    graph = kit.in_cluster_graph(profile)
    problems = podsecurity.check_all(kit.core_objects(graph) + kit.custom_resources(graph))
    for release in graph.of_type("kubernetes:helm.sh/v3:Release"):
        problems += podsecurity.check_chart_values(
            kit.chart_name(release), release.inputs["values"]
        )
    assert problems == []


def test_pod_security_checker_catches_each_kind_of_violation(kit: Any) -> None:
    graph = kit.in_cluster_graph("fraud")
    kafka = next(m for m in kit.custom_resources(graph) if m["kind"] == "Kafka")
    broken = copy.deepcopy(kafka)
    del broken["spec"]["kafka"]["template"]["kafkaContainer"]["securityContext"]["capabilities"]
    assert any("drop ALL" in p for p in podsecurity.check_object(broken))
    hub = _hub_values(kit, "fraud")
    escalating = copy.deepcopy(hub)
    escalating["proxy"]["chp"]["containerSecurityContext"]["allowPrivilegeEscalation"] = True
    assert podsecurity.check_chart_values("jupyterhub", escalating) == [
        "jupyterhub.proxy: allowPrivilegeEscalation must be false"
    ]
    iptables = copy.deepcopy(hub)
    iptables["singleuser"]["cloudMetadata"]["blockWithIptables"] = True
    assert podsecurity.check_chart_values("jupyterhub", iptables)
    runner = copy.deepcopy(kit.scale_set_releases(graph)[0].inputs["values"])
    runner["template"]["spec"]["hostNetwork"] = True
    runner["template"]["spec"]["securityContext"].pop("seccompProfile")
    assert podsecurity.check_chart_values("gha-runner-scale-set", runner) == [
        "gha-runner-scale-set.template: hostNetwork"
    ]
    # the container context still sets seccomp; without it the pod has none at all
    runner["template"]["spec"]["containers"][0]["securityContext"].pop("seccompProfile")
    assert len(podsecurity.check_chart_values("gha-runner-scale-set", runner)) == 2
    del runner["listenerTemplate"]
    assert (
        "gha-runner-scale-set: values without listenerTemplate.spec"
        in podsecurity.check_chart_values("gha-runner-scale-set", runner)
    )


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_resource_belongs_to_its_capability_component(kit: Any, profile: str) -> None:
    graph = kit.in_cluster_graph(profile)
    components = {r.urn: r for r in graph if not r.custom}
    assert {r.type for r in components.values()} <= {
        "dsenv:base:TeamNamespace",
        "dsenv:workspaces:Workspaces",
        "dsenv:spark:SparkOperator",
        "dsenv:kafka:StrimziKafka",
        "dsenv:runners:Runners",
        "dsenv:serving:Serving",
        "dsenv:pipelines:Pipelines",
    }
    for resource in graph:
        if resource.custom:
            assert resource.parent in components, resource.urn
            assert resource.capability == components[resource.parent].type.split(":")[1]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_capabilities_depend_on_the_namespace_not_on_each_other(kit: Any, profile: str) -> None:
    graph = kit.in_cluster_graph(profile)
    by_urn = graph.by_urn()
    for resource in graph:
        for dep in resource.dependencies:
            other = by_urn[dep].capability
            assert other in (resource.capability, "base"), f"{resource.name} -> {by_urn[dep].name}"


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_program_builds_the_same_in_cluster_capabilities_for_every_profile(
    kit: Any, profile: str
) -> None:
    """Through the real program (both halves): the in-cluster resources it registers are the
    ones the components make alone, and every pod template in them is `restricted`."""
    from dsenv.offline.capture import capture_spec

    graph = capture_spec(kit.spec_for(profile))
    in_cluster = {"base", "workspaces", "spark", "kafka", "runners", "serving", "pipelines"}
    program_k8s = {
        (r.type, r.name)
        for r in graph
        if r.type.startswith("kubernetes:") and r.capability in in_cluster
    }
    alone = {
        (r.type, r.name)
        for r in kit.in_cluster_graph(profile)
        if r.custom and r.type.startswith("kubernetes:")
    }
    assert alone - program_k8s == set()
    problems = podsecurity.check_all(kit.core_objects(graph) + kit.custom_resources(graph))
    for release in graph.of_type("kubernetes:helm.sh/v3:Release"):
        problems += podsecurity.check_chart_values(
            kit.chart_name(release), release.inputs["values"]
        )
    assert problems == []
    if kit.spec_for(profile).provider == "kubernetes":
        assert not [r for r in graph if r.type.startswith("aws:")]
