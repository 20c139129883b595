"""Usability contracts on the captured graph: every user of every example can start a
workspace on each tier their groups allow and, from it, submit Spark, produce to and consume
from each declared topic and call each model; and each broken link (a binding removed, a
secret not mounted, a policy that denies the port) fails the path with that link named."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from testkit import PROFILES, graph_of, run_cli, spec_of

from dsenv.offline import contracts
from dsenv.offline.graph import Resource, ResourceGraph, graph_from_json

EXAMPLES = ["fraud", "vision", "sandbox", "genomics"]


def _copy(graph: ResourceGraph) -> ResourceGraph:
    return graph_from_json(json.loads(json.dumps(graph.to_json())))


def _kube(graph: ResourceGraph, kind: str, name: str) -> Resource:
    (found,) = [
        r
        for r in graph
        if r.inputs.get("kind") == kind and (r.inputs.get("metadata") or {}).get("name") == name
    ]
    return found


def _hub_values(graph: ResourceGraph) -> dict[str, Any]:
    (hub,) = [
        r
        for r in graph
        if r.type.startswith("kubernetes:helm.sh/") and "jupyterhub" in str(r.inputs.get("chart"))
    ]
    values: dict[str, Any] = hub.inputs["values"]
    return values


def _paths(graph: ResourceGraph, user: str) -> dict[tuple[str, str], contracts.Path]:
    return {(p.contract, p.target): p for p in contracts.access(graph, user)}


# ---- every example: every path holds --------------------------------------------------


EXPECTED = {
    # user -> the paths they must have
    "fraud": {
        "bob": {
            ("workspace", "small"),
            ("spark", "SparkApplication"),
            ("kafka", "transactions"),
            ("kafka", "fraud-scores"),
            ("serving", "fraud-score"),
        },
        "alice": {
            ("workspace", "small"),
            ("workspace", "large"),
            ("workspace", "gpu"),
            ("spark", "SparkApplication"),
            ("kafka", "transactions"),
            ("kafka", "fraud-scores"),
            ("serving", "fraud-score"),
        },
    },
    "vision": {
        "fay": {
            ("workspace", "cpu"),
            ("spark", "EMR job run"),
            ("serving", "defect-detector"),
            ("serving", "caption"),
        },
        "dana": {
            ("workspace", "cpu"),
            ("workspace", "a10g"),
            ("workspace", "l4x4"),
            ("spark", "EMR job run"),
            ("serving", "defect-detector"),
            ("serving", "caption"),
        },
    },
    "sandbox": {contracts.ANY_USER: {("workspace", "standard")}},
    "genomics": {
        "heidi": {
            ("workspace", "cpu"),
            ("spark", "SparkApplication"),
            ("kafka", "sequencer-runs"),
            ("serving", "variant-caller"),
            ("serving", "qc-scorer"),
        },
        "grace": {
            ("workspace", "cpu"),
            ("workspace", "a100"),
            ("spark", "SparkApplication"),
            ("kafka", "sequencer-runs"),
            ("serving", "variant-caller"),
            ("serving", "qc-scorer"),
        },
    },
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_user_of_every_example_has_every_path(name: str) -> None:
    graph = graph_of(name)
    for user, expected in EXPECTED[name].items():
        paths = _paths(graph, user)
        assert set(paths) == expected, user
        broken = {k: p.missing for k, p in paths.items() if not p.ok}
        assert not broken, broken
    assert not contracts.findings(graph)
    # every member of every group is proven, not only the ones listed above
    assert set(EXPECTED[name]) <= set(contracts.users(graph))


def test_a_user_only_gets_the_tiers_of_their_groups() -> None:
    paths = _paths(graph_of("fraud"), "bob")
    assert ("workspace", "large") not in paths and ("workspace", "gpu") not in paths


# ---- broken variants: each names its missing link ----------------------------------------


def _broken(
    name: str, user: str, break_it: Callable[[ResourceGraph], None]
) -> dict[tuple[str, str], contracts.Path]:
    graph = _copy(graph_of(name))
    break_it(graph)
    return _paths(graph, user)


def _remove(graph: ResourceGraph, kind: str, name: str) -> None:
    graph.resources.remove(_kube(graph, kind, name))


def _missing(path: contracts.Path) -> contracts.Link:
    assert not path.ok, path
    link = path.missing
    assert link is not None
    return link


@pytest.mark.parametrize("name", ["fraud", "genomics"])
def test_without_the_submitter_binding_spark_fails_at_rbac(name: str) -> None:
    paths = _broken(
        name,
        "alice" if name == "fraud" else "grace",
        lambda g: _remove(g, "RoleBinding", "spark-submitter"),
    )
    link = _missing(paths[("spark", "SparkApplication")])
    assert link.what == "rbac" and "sparkapplications" in link.detail
    assert "jupyter-user" in link.detail


def test_without_the_template_mount_spark_fails_at_template() -> None:
    def unmount(g: ResourceGraph) -> None:
        storage = _hub_values(g)["singleuser"]["storage"]
        del storage["extraVolumes"]["dsenv-spark"]

    link = _missing(_broken("fraud", "bob", unmount)[("spark", "SparkApplication")])
    assert link.what == "template" and "not mounted" in link.detail


def test_a_template_on_the_workspace_image_fails_at_image() -> None:
    def jupyter_image(g: ResourceGraph) -> None:
        import yaml

        cm = _kube(g, "ConfigMap", "spark-application-template")
        app = yaml.safe_load(cm.inputs["data"]["sparkapplication.yaml"])
        image = _hub_values(g)["singleuser"]["image"]
        app["spec"]["image"] = f"{image['name']}:{image['tag']}"
        cm.inputs["data"]["sparkapplication.yaml"] = yaml.safe_dump(app)

    link = _missing(_broken("genomics", "heidi", jupyter_image)[("spark", "SparkApplication")])
    assert link.what == "image" and "not a Spark image" in link.detail


def test_an_executor_larger_than_its_tier_fails_at_fit() -> None:
    def overhead(g: ResourceGraph) -> None:
        import yaml

        cm = _kube(g, "ConfigMap", "spark-application-template")
        app = yaml.safe_load(cm.inputs["data"]["sparkapplication.yaml"])
        app["spec"]["executor"]["memory"] = (
            "114688m"  # the whole tier (112Gi), and the overhead on top
        )
        cm.inputs["data"]["sparkapplication.yaml"] = yaml.safe_dump(app)

    link = _missing(_broken("fraud", "bob", overhead)[("spark", "SparkApplication")])
    assert link.what == "fit" and "executor" in link.detail and "tier large" in link.detail


def test_without_the_password_kafka_fails_at_credentials() -> None:
    def no_password(g: ResourceGraph) -> None:
        del _hub_values(g)["singleuser"]["extraEnv"]["KAFKA_SASL_PASSWORD"]

    link = _missing(_broken("fraud", "bob", no_password)[("kafka", "transactions")])
    assert link.what == "credentials" and "KAFKA_SASL_PASSWORD" in link.detail


def test_without_the_cluster_ca_kafka_fails_at_credentials() -> None:
    def no_ca(g: ResourceGraph) -> None:
        del _hub_values(g)["singleuser"]["storage"]["extraVolumes"]["dsenv-kafka-ca"]

    link = _missing(_broken("genomics", "heidi", no_ca)[("kafka", "sequencer-runs")])
    assert link.what == "credentials" and "genomics-kafka-cluster-ca-cert" in link.detail


def test_a_user_without_write_fails_at_acl() -> None:
    def read_only(g: ResourceGraph) -> None:
        user = _kube(g, "KafkaUser", "workspaces")
        for acl in user.inputs["spec"]["authorization"]["acls"]:
            acl["operations"] = [o for o in acl["operations"] if o != "Write"]

    link = _missing(_broken("fraud", "alice", read_only)[("kafka", "fraud-scores")])
    assert link.what == "acl" and "fraud-scores" in link.detail


def _only_http(g: ResourceGraph) -> None:
    """The namespace's pod-to-pod policy narrowed to port 80."""
    policy = _kube(g, "NetworkPolicy", "allow-same-namespace")
    for rule in (*policy.inputs["spec"]["ingress"], *policy.inputs["spec"]["egress"]):
        rule["ports"] = [{"protocol": "TCP", "port": 80}]


@pytest.mark.parametrize("name", ["fraud", "genomics"])
def test_a_policy_denying_the_port_fails_kafka_and_serving_at_network(name: str) -> None:
    user = "bob" if name == "fraud" else "heidi"
    paths = _broken(name, user, _only_http)
    kafka = [p for (c, _), p in paths.items() if c == "kafka"]
    serving = [p for (c, _), p in paths.items() if c == "serving"]
    assert kafka and serving
    for path in kafka:
        link = _missing(path)
        assert link.what == "network" and "port 9093" in link.detail
    for path in serving:
        link = _missing(path)
        assert link.what == "network" and "port 8080" in link.detail


def test_without_the_workspace_service_account_every_path_fails_at_identity() -> None:
    paths = _broken(
        "sandbox", contracts.ANY_USER, lambda g: _remove(g, "ServiceAccount", "jupyter-user")
    )
    link = _missing(paths[("workspace", "standard")])
    assert link.what == "identity" and "jupyter-user" in link.detail


def test_an_irsa_role_that_trusts_another_account_fails_at_identity() -> None:
    def other_account(g: ResourceGraph) -> None:
        role = next(r for r in g.of_type("aws:iam/role:Role") if r.name == "identity-workspaces")
        role.inputs["assumeRolePolicy"] = role.inputs["assumeRolePolicy"].replace(
            "jupyter-user", "someone-else"
        )

    link = _missing(_broken("fraud", "bob", other_account)[("workspace", "small")])
    assert link.what == "identity" and "does not trust" in link.detail


def test_without_the_submitter_policy_emr_fails_at_permission() -> None:
    def no_policy(g: ResourceGraph) -> None:
        g.resources.remove(next(r for r in g if r.name == "spark-emr-submitter"))

    link = _missing(_broken("vision", "fay", no_policy)[("spark", "EMR job run")])
    assert link.what == "permission" and "start job runs" in link.detail


def test_a_broken_path_is_a_check_finding_naming_the_link() -> None:
    graph = _copy(graph_of("fraud"))
    _remove(graph, "RoleBinding", "spark-submitter")
    (finding,) = {f.message for f in contracts.findings(graph) if "bob" in f.message}
    assert finding.startswith("bob cannot use spark SparkApplication: missing rbac:")


# ---- sizes: what each pod requests is at most its tier's own size ---------------------------


def _quantity_mib(text: str) -> int:
    from dsenv.offline.contracts import _mib

    return _mib(text)


@pytest.mark.parametrize("name", ["fraud", "genomics"])
def test_every_spark_runner_and_predictor_pod_requests_at_most_its_tier(name: str) -> None:
    """Node fit of the tier's size is the node-fit rules' concern; here each pod of a tier
    asks for no more than that size (Spark: heap plus Spark's overhead)."""
    import yaml

    spec, graph = spec_of(name), graph_of(name)
    by_selector = {json.dumps(p.node_selector, sort_keys=True): p for p in spec.node_pools}

    def tier_of(selector: dict[str, str]) -> Any:
        return by_selector[json.dumps(selector, sort_keys=True)]

    checked = 0
    app = yaml.safe_load(
        _kube(graph, "ConfigMap", "spark-application-template").inputs["data"][
            "sparkapplication.yaml"
        ]
    )
    for role in ("driver", "executor"):
        pod = app["spec"][role]
        pool = tier_of(pod["nodeSelector"])
        assert (
            _quantity_mib(pod["memory"]) + _quantity_mib(pod["memoryOverhead"])
            <= pool.memory_bytes // 2**20
        )
        assert int(pod["coreRequest"].removesuffix("m")) <= pool.cpu_millis
        assert pod["coreLimit"] == pod["coreRequest"]
        # Spark's own rule: the overhead is at least 40% of the heap (PySpark) and 384Mi
        assert _quantity_mib(pod["memoryOverhead"]) >= max(384, 0.4 * _quantity_mib(pod["memory"]))
        checked += 1
    for r in graph:
        values = r.inputs.get("values") or {}
        if (
            r.type.startswith("kubernetes:helm.sh/")
            and str(r.inputs.get("chart")).rsplit("/", 1)[-1] == "gha-runner-scale-set"
        ):
            pod_spec = values["template"]["spec"]
            requests = pod_spec["containers"][0]["resources"]["requests"]
            pool = tier_of(pod_spec["nodeSelector"])
            assert int(requests["cpu"].removesuffix("m")) <= pool.cpu_millis
            assert _quantity_mib(requests["memory"]) <= pool.memory_bytes // 2**20
            checked += 1
    for r in graph.of_type("kubernetes:serving.kserve.io/v1beta1:InferenceService"):
        predictor = r.inputs["spec"]["predictor"]
        requests = predictor["model"]["resources"]["requests"]
        pool = tier_of(predictor["nodeSelector"])
        assert int(requests["cpu"].removesuffix("m")) <= pool.cpu_millis
        assert _quantity_mib(requests["memory"]) <= pool.memory_bytes // 2**20
        checked += 1
    assert checked >= 4


# ---- dsenv check --access ---------------------------------------------------------------------


def test_check_access_prints_every_path_of_the_user() -> None:
    code, out, _ = run_cli(["check", str(PROFILES / "fraud.yaml"), "--access", "bob"])
    assert code == 0, out
    assert "ok   workspace small (bob)" in out
    assert "+ rbac: RoleBinding fraud/spark-submitter" in out
    assert "+ credentials: KafkaUser workspaces's password" in out
    assert out.rstrip().endswith("5 paths, 0 failed")


def test_check_access_of_an_unknown_user_is_refused() -> None:
    code, _, err = run_cli(["check", str(PROFILES / "fraud.yaml"), "--access", "mallory"])
    assert code == 2
    assert "alice, bob, carol" in err


def test_an_emr_on_eks_team_passes_check_with_no_finding(tmp_path: Path) -> None:
    (tmp_path / "org").mkdir()
    for org in (PROFILES / "org").glob("*.yaml"):
        (tmp_path / "org" / org.name).write_text(org.read_text(encoding="utf-8"), encoding="utf-8")
    text = (PROFILES / "fraud.yaml").read_text(encoding="utf-8")
    team = tmp_path / "fraud.yaml"
    team.write_text(
        text.replace("spark: {engine: operator,", "spark: {engine: emr-on-eks,"), encoding="utf-8"
    )
    code, out, err = run_cli(["check", str(team)])
    assert code == 0, out + err
    assert out.splitlines()[-1] == "0 findings"
    code, out, _ = run_cli(["check", str(team), "--access", "bob"])
    assert code == 0, out
    assert "+ placement: driver pod template on tier small" in out
    assert "+ placement: executor pod template on tier large" in out


# ---- what the paths rest on -------------------------------------------------------------------


def test_brokers_get_their_tier_and_on_aws_spread_over_the_zones() -> None:
    (pool,) = graph_of("fraud").of_type("kubernetes:kafka.strimzi.io/v1:KafkaNodePool")
    spec = pool.inputs["spec"]
    assert spec["resources"]["requests"] == {"cpu": "1500m", "memory": "6144Mi"}  # tier small
    assert spec["jvmOptions"] == {"-Xms": "3072m", "-Xmx": "3072m"}  # half the memory
    (spread,) = spec["template"]["pod"]["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    (kafka,) = graph_of("fraud").of_type("kubernetes:kafka.strimzi.io/v1:Kafka")
    assert kafka.inputs["spec"]["kafka"]["rack"] == {"topologyKey": "topology.kubernetes.io/zone"}
    # on premise: the brokers on the admins' general pool, no zone assumed
    (pool,) = graph_of("genomics").of_type("kubernetes:kafka.strimzi.io/v1:KafkaNodePool")
    pod = pool.inputs["spec"]["template"]["pod"]
    (term,) = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert term["matchExpressions"] == [
        {"key": "node.lab.example/pool", "operator": "In", "values": ["general"]}
    ]
    assert "topologySpreadConstraints" not in pod


def test_the_storage_initializer_context_is_restricted_and_checked() -> None:
    from dsenv.offline.rules import rule

    graph = _copy(graph_of("fraud"))
    (kserve,) = [
        r
        for r in graph
        if r.type.startswith("kubernetes:helm.sh/")
        and str(r.inputs.get("chart")).endswith("/kserve")
    ]
    ctx = kserve.inputs["values"]["kserve"]["storage"]["containerSecurityContext"]
    assert ctx["allowPrivilegeEscalation"] is False and ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["runAsNonRoot"] is True and ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not list(rule("pod-security-restricted").check(graph))
    del kserve.inputs["values"]["kserve"]["storage"]["containerSecurityContext"]
    hits = list(rule("pod-security-restricted").check(graph))
    assert hits and all("kserve.storage-initializer" in h.message for h in hits), hits


def test_the_emr_submitter_may_pass_only_the_job_role() -> None:
    graph = graph_of("vision")
    (policy,) = [r for r in graph if r.name == "spark-emr-submitter"]
    (job,) = [r for r in graph.of_type("aws:iam/role:Role") if r.name == "spark-emr-job"]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    passes = [s for s in statements if "iam:PassRole" in s["Action"]]
    assert [s["Resource"] for s in passes] == [job.outputs["arn"]]
    assert policy.inputs["role"] == "acme-vision-workspaces"
    actions = {
        a
        for s in statements
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert {"emr-serverless:StartJobRun", "emr-serverless:GetJobRun"} <= actions


def test_an_msk_team_reaches_its_cluster_with_its_role(tmp_path: Path) -> None:
    from dsenv.offline.capture import capture_spec
    from dsenv.profile.load import load_team
    from dsenv.spec.expand import expand_profile

    (tmp_path / "org").mkdir()
    for org in (PROFILES / "org").glob("*.yaml"):
        (tmp_path / "org" / org.name).write_text(org.read_text(encoding="utf-8"), encoding="utf-8")
    text = (PROFILES / "fraud.yaml").read_text(encoding="utf-8")
    start, end = text.index("kafka:\n"), text.index("ci_runners:")
    team = tmp_path / "fraud.yaml"
    team.write_text(
        text[:start] + "kafka: {engine: msk, brokers: 2}\n" + text[end:], encoding="utf-8"
    )
    graph = capture_spec(expand_profile(load_team(team)))
    (path,) = [p for p in contracts.access(graph, "bob") if p.contract == "kafka"]
    assert path.ok, path.missing
    assert [link.what for link in path.links] == ["network", "credentials"]
    broken = _copy(graph)
    broken.resources.remove(next(r for r in broken if r.name == "identity-workspaces-kafka"))
    (path,) = [p for p in contracts.access(broken, "bob") if p.contract == "kafka"]
    link = _missing(path)
    assert link.what == "credentials" and "kafka-cluster:Connect" in link.detail
