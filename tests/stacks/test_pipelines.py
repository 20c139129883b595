"""Pipelines on the captured graph: the nightly retraining CronJob, the weekly Spark ETL and
the features workflow of fraud, the small job of sandbox, the Argo Workflows release that runs
the workflows, who may submit and who may only watch, and the EMR on EKS schedules."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate
import pytest
import yaml

from dsenv.live.cluster import shared_operator_needs
from dsenv.offline.cost import estimate, price_table
from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.offline.run import Offline, offline
from dsenv.profile.cron import eventbridge, runs_per_month
from dsenv.spec.tiers import mebibytes
from dsenv.stacks.components import pipelines as component
from dsenv.stacks.components import podsecurity
from dsenv.stacks.components.pipelines_emr import START_JOB_RUN

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "profiles"


@functools.cache
def example(name: str) -> Offline:
    return offline(PROFILES / f"{name}.yaml")


def _objects(graph: ResourceGraph, kind: str) -> dict[str, dict[str, Any]]:
    """The captured objects of `kind`, by name, as the provider applies them."""
    keys = ("apiVersion", "kind", "metadata", "spec", "data", "rules", "roleRef", "subjects")
    out = {}
    for r in graph:
        if r.type.startswith("kubernetes:") and r.type.endswith(f":{kind}"):
            manifest = {k: v for k, v in r.inputs.items() if k in keys}
            out[manifest["metadata"]["name"]] = manifest
    return out


def _pipelines(graph: ResourceGraph) -> list[Resource]:
    return [r for r in graph if r.capability == "pipelines"]


# --- the objects --------------------------------------------------------------------------


def test_fraud_retrains_every_night_in_berlin_time_on_the_large_tier() -> None:
    env = example("fraud")
    job = _objects(env.graph, "CronJob")["retrain-nightly"]
    spec = job["spec"]
    assert spec["schedule"] == "0 2 * * *"
    assert spec["timeZone"] == "Europe/Berlin"
    assert spec["concurrencyPolicy"] == "Forbid" and spec["suspend"] is False
    run = spec["jobTemplate"]["spec"]
    assert run["activeDeadlineSeconds"] == 2 * 3600 and run["backoffLimit"] == 1
    pod = run["template"]["spec"]
    (container,) = pod["containers"]
    large = env.spec.pool("large")
    # the pod is the tier's size, requested and limited alike: it fits one node of the tier
    size = {"cpu": f"{large.cpu_millis}m", "memory": mebibytes(large.memory_bytes)}
    assert container["resources"] == {"requests": size, "limits": size}
    assert pod["nodeSelector"] == {"dsenv.io/tier": "large"}
    assert container["command"] == ["python", "-m", "fraud.retrain", "--model", "fraud-score"]
    # the team image from the team registry, run as the pipelines identity
    assert container["image"].endswith(f"acme/fraud-workspace:{env.spec.image.tag}")
    assert pod["serviceAccountName"] == "pipeline-runner"
    # the secret by reference, mounted as files; the plain variable as a value
    assert {"name": "secret-mlflow-token", "secret": {"secretName": "mlflow-token"}} in pod[
        "volumes"
    ]
    assert {
        "name": "secret-mlflow-token",
        "mountPath": "/etc/dsenv/secrets/mlflow-token",
        "readOnly": True,
    } in container["volumeMounts"]
    assert {"name": "MLFLOW_EXPERIMENT_NAME", "value": "fraud-score"} in container["env"]


def test_the_pipelines_identity_has_an_irsa_role_on_aws() -> None:
    env = example("fraud")
    accounts = _objects(env.graph, "ServiceAccount")
    annotations = accounts["pipeline-runner"]["metadata"].get("annotations") or {}
    assert annotations["eks.amazonaws.com/role-arn"].endswith(":role/acme-fraud-pipelines")


def test_fraud_runs_its_etl_weekly_as_a_scheduled_spark_application() -> None:
    env = example("fraud")
    app = _objects(env.graph, "ScheduledSparkApplication")["etl-weekly"]
    spec = app["spec"]
    assert (spec["schedule"], spec["timeZone"]) == ("0 3 * * 0", "Europe/Berlin")
    template = spec["template"]
    assert template["mainApplicationFile"] == "local:///home/jovyan/jobs/etl.py"
    assert template["arguments"] == ["--days", "7"]
    assert template["executor"]["instances"] == 8
    # the team's Spark: its service account, version and tiers
    assert template["driver"]["serviceAccount"] == env.spec.spark.service_account
    assert template["sparkVersion"] == env.spec.spark.spark_version
    assert template["driver"]["nodeSelector"] == {"dsenv.io/tier": "small"}
    assert template["executor"]["nodeSelector"] == {"dsenv.io/tier": "large"}


def test_fraud_features_workflow_is_a_dag_with_a_nightly_cron_workflow() -> None:
    env = example("fraud")
    template = _objects(env.graph, "WorkflowTemplate")["features"]
    spec = template["spec"]
    main = next(t for t in spec["templates"] if t["name"] == spec["entrypoint"])
    tasks = {t["name"]: t.get("dependencies", []) for t in main["dag"]["tasks"]}
    assert tasks == {"extract": [], "embed": ["extract"], "publish": ["embed"]}
    steps = {t["name"]: t for t in spec["templates"] if "container" in t}
    assert steps["embed"]["retryStrategy"]["limit"] == 2
    gpu = env.spec.pool("gpu")
    assert steps["embed"]["container"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert steps["embed"]["tolerations"] == gpu.toleration_manifests()
    # the workflow may take the slowest chain of its steps: 30m + 45m + 15m
    assert spec["activeDeadlineSeconds"] == 90 * 60
    assert spec["serviceAccountName"] == "pipeline-runner" and spec["archiveLogs"] is True
    cron = _objects(env.graph, "CronWorkflow")["features"]["spec"]
    assert cron["schedules"] == ["30 0 * * *"] and cron["timezone"] == "Europe/Berlin"
    assert cron["workflowSpec"] == {"workflowTemplateRef": {"name": "features"}}


def test_sandbox_has_one_small_scheduled_job_and_no_workflow_engine() -> None:
    env = example("sandbox")
    (job,) = _objects(env.graph, "CronJob").values()
    assert job["spec"]["schedule"] == "0 6 * * 1-5" and job["spec"]["timeZone"] == "UTC"
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == env.spec.image.ref
    assert "nodeSelector" not in pod  # any node of the existing cluster
    assert not [
        r
        for r in env.graph
        if r.type == "kubernetes:helm.sh/v3:Release" and "argo" in str(r.inputs["chart"])
    ]


def test_an_on_demand_job_is_a_suspended_cron_job(tmp_path: Path) -> None:
    text = (PROFILES / "sandbox.yaml").read_text(encoding="utf-8")
    text = text.replace(', schedule: "0 6 * * 1-5"', "")
    profile = tmp_path / "sandbox.yaml"
    profile.write_text(text, encoding="utf-8")
    (job,) = _objects(offline(profile).graph, "CronJob").values()
    assert job["spec"]["suspend"] is True and "timeZone" not in job["spec"]


# --- against the upstream schemas ---------------------------------------------------------


def _served(upstream: Path, kit: Any, kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = kit.served_schema(upstream / kit.crd_files[kind])
    return schema


@pytest.mark.parametrize("profile", ["fraud", "sandbox"])
def test_jobs_and_workflows_pass_their_schemas(kit: Any, upstream: Path, profile: str) -> None:
    env = example(profile)
    checked = 0
    for r in _pipelines(env.graph):
        if not r.type.startswith("kubernetes:") or r.type.startswith("kubernetes:helm.sh/"):
            continue
        obj = kit.manifest(r)
        if obj["kind"] in kit.crd_files:
            errors = [
                e.message
                for e in jsonschema.Draft7Validator(
                    _served(upstream, kit, obj["kind"])
                ).iter_errors(obj)
            ]
            assert errors == [], obj["kind"]
        else:
            kubernetes_validate.validate(obj, env.spec.kubernetes_version, strict=True)
        checked += 1
    assert checked >= (12 if profile == "fraud" else 5)


def test_the_workflow_schema_check_has_teeth(kit: Any, upstream: Path) -> None:
    template = _objects(example("fraud").graph, "WorkflowTemplate")["features"]
    broken = json.loads(json.dumps(template))
    broken["spec"]["templates"][1]["container"]["comand"] = ["echo"]
    schema = _served(upstream, kit, "WorkflowTemplate")
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))
    cron = json.loads(json.dumps(_objects(example("fraud").graph, "CronWorkflow")["features"]))
    cron["spec"]["schedule"] = cron["spec"].pop("schedules")[0]  # v3's field, gone in v4
    assert list(
        jsonschema.Draft7Validator(_served(upstream, kit, "CronWorkflow")).iter_errors(cron)
    )


def test_a_submitted_workflow_is_a_valid_workflow(kit: Any, upstream: Path) -> None:
    """What the workspace example creates: a Workflow that references the template."""
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "features-", "namespace": "fraud"},
        "spec": {"workflowTemplateRef": {"name": "features"}},
    }
    assert not list(
        jsonschema.Draft7Validator(_served(upstream, kit, "Workflow")).iter_errors(workflow)
    )
    assert '"workflowTemplateRef": {"name": name}' in component.EXAMPLE


# --- Pod Security restricted --------------------------------------------------------------


@pytest.mark.parametrize("profile", ["fraud", "sandbox"])
def test_every_pipelines_pod_template_is_restricted(profile: str) -> None:
    env = example(profile)
    containers = 0
    for r in _pipelines(env.graph):
        obj = r.inputs
        if r.type.startswith("kubernetes:helm.sh/"):
            assert podsecurity.check_chart_values("argo-workflows", obj["values"]) == []
            continue
        assert podsecurity.check_object(obj) == [], r.name
        containers += len(podsecurity.pod_templates(obj))
        if obj.get("kind") == "CronJob":
            containers += 1
    # not vacuous: the retraining job, three workflow steps, the Spark driver and executor
    assert containers >= (6 if profile == "fraud" else 1)


def test_the_restricted_check_sees_a_privileged_workflow_step() -> None:
    template = json.loads(
        json.dumps(_objects(example("fraud").graph, "WorkflowTemplate")["features"])
    )
    template["spec"]["templates"][2]["container"]["securityContext"]["privileged"] = True
    assert any("privileged" in p for p in podsecurity.check_object(template))


# --- the engine -----------------------------------------------------------------------------


def test_argo_workflows_is_pinned_namespaced_and_manages_only_the_team_namespace(
    upstream: Path,
) -> None:
    env = example("fraud")
    (release,) = [
        r for r in env.graph.of_type("kubernetes:helm.sh/v3:Release") if r.capability == "pipelines"
    ]
    assert release.inputs["chart"] == "argo-workflows"
    assert release.inputs["version"] == "1.0.18"
    chart = yaml.safe_load((upstream / "argo-workflows/argo-helm-chart/Chart.yaml").read_text())
    assert chart["version"] == release.inputs["version"]
    assert release.inputs["namespace"] == "fraud-argo"
    values = release.inputs["values"]
    assert values["singleNamespace"] is True
    assert values["controller"]["extraArgs"] == ["--managed-namespace", "fraud"]
    assert values["server"]["enabled"] is False  # no UI to put behind the hub's sign-in
    # every key dsenv sets is one the chart defines (security contexts are free-form maps)
    defaults = yaml.safe_load((upstream / "argo-workflows/argo-helm-chart/values.yaml").read_text())

    def paths(tree: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        if (
            not isinstance(tree, dict)
            or not tree
            or prefix[-1:]
            in (
                ("podSecurityContext",),
                ("securityContext",),
            )
        ):
            return [prefix]
        return [p for k, v in tree.items() for p in paths(v, (*prefix, k))]

    for path in paths(values):
        node: Any = defaults
        for key in path:
            assert isinstance(node, dict) and key in node, ".".join(path)
            node = node[key]
    # the controller's rights in the team namespace: a Role, never a ClusterRole of dsenv's
    roles = _objects(env.graph, "Role")
    controller = roles[component.CONTROLLER_ROLE]
    assert controller["metadata"]["namespace"] == "fraud"
    binding = _objects(env.graph, "RoleBinding")[component.CONTROLLER_ROLE]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "argo-workflow-controller", "namespace": "fraud-argo"}
    ]
    assert values["controller"]["serviceAccount"]["name"] == "argo-workflow-controller"
    assert not [r for r in env.graph if r.type.endswith(":ClusterRole")]


def test_logs_and_artifacts_go_to_the_team_bucket_on_aws() -> None:
    env = example("fraud")
    config = _objects(env.graph, "ConfigMap")["artifact-repositories"]
    annotation = "workflows.argoproj.io/default-artifact-repository"
    key = config["metadata"]["annotations"][annotation]
    repository = yaml.safe_load(config["data"][key])
    assert repository["archiveLogs"] is True
    assert repository["s3"]["bucket"] == env.spec.aws.buckets[1].name
    assert repository["s3"]["useSDKCreds"] is True  # the pipelines role, by IRSA


def test_shared_operators_install_no_argo_and_store_artifacts_in_the_object_store(
    tmp_path: Path,
) -> None:
    org = (PROFILES / "org" / "institute.yaml").resolve()
    profile = tmp_path / "lab.yaml"
    profile.write_text(
        f"""apiVersion: dsenv/v1
kind: Team
name: lab
extends: {org}
target:
  operators: shared
  object_storage: {{artifacts_bucket: lab-artifacts}}
tiers: {{cpu: {{cpu: 2, memory: 8Gi, max_pods: 4}}}}
pipelines:
  time_zone: UTC
  workflows:
    - name: nightly
      schedule: "@daily"
      steps: [{{name: run, command: [python, run.py], tier: cpu}}]
""",
        encoding="utf-8",
    )
    env = offline(profile)
    assert not [r for r in env.graph if r.type == "kubernetes:helm.sh/v3:Release"]
    assert component.CONTROLLER_ROLE not in _objects(env.graph, "Role")
    config = _objects(env.graph, "ConfigMap")["artifact-repositories"]
    s3 = yaml.safe_load(config["data"]["default"])["s3"]
    store = env.spec.object_store
    assert store is not None
    assert s3["bucket"] == "lab-artifacts"
    assert s3["accessKeySecret"] == {"name": store.credentials_secret, "key": "AWS_ACCESS_KEY_ID"}
    assert env.spec.pipelines is not None
    assert env.spec.pipelines.controller_namespace == "argo"
    # dsenv doctor names the shared controller the team needs, and how to install it
    (need,) = [n for n in shared_operator_needs(env.spec) if n.capability == "pipelines"]
    assert need.namespace == "argo" and "workflows.argoproj.io" in need.crds
    assert "argo-workflows --repo https://argoproj.github.io/argo-helm --version 1.0.18" in (
        need.install
    )


# --- who may do what ----------------------------------------------------------------------


def _allowed(
    graph: ResourceGraph, subject: dict[str, str], verb: str, group: str, resource: str
) -> bool:
    """Kubernetes RBAC over the captured Roles and RoleBindings of the team namespace."""
    roles = _objects(graph, "Role")
    for binding in _objects(graph, "RoleBinding").values():
        if not any(
            s["kind"] == subject["kind"] and s["name"] == subject["name"]
            for s in binding["subjects"]
        ):
            continue
        role = roles.get(binding["roleRef"]["name"])
        for rule in role["rules"] if role else []:
            if (
                group in rule["apiGroups"]
                and resource in rule["resources"]
                and verb in rule["verbs"]
            ):
                return True
    return False


SCIENTISTS = {"kind": "Group", "name": "scientists"}
ANALYSTS = {"kind": "Group", "name": "analysts"}
WORKSPACE = {"kind": "ServiceAccount", "name": "jupyter-user"}


def test_submitters_submit_and_trigger_viewers_only_watch() -> None:
    graph = example("fraud").graph
    for who in (SCIENTISTS, WORKSPACE):  # the scientists, and any notebook of the hub
        assert _allowed(graph, who, "create", "argoproj.io", "workflows")
        assert _allowed(graph, who, "create", "batch", "jobs")  # a run of a CronJob now
        assert _allowed(graph, who, "patch", "argoproj.io", "cronworkflows")
        assert _allowed(graph, who, "create", "sparkoperator.k8s.io", "sparkapplications")
        assert _allowed(graph, who, "get", "", "pods/log")
    assert _allowed(graph, ANALYSTS, "get", "", "pods/log")
    assert _allowed(graph, ANALYSTS, "list", "argoproj.io", "workflows")
    for verb, group, resource in (
        ("create", "argoproj.io", "workflows"),
        ("create", "batch", "jobs"),
        ("patch", "batch", "cronjobs"),
        ("delete", "argoproj.io", "workflows"),
    ):
        assert not _allowed(graph, ANALYSTS, verb, group, resource)
    # groups are bound only where the profile allows them
    subjects = {
        (s["kind"], s["name"])
        for b in _objects(graph, "RoleBinding").values()
        if b["roleRef"]["name"] in (component.SUBMIT_ROLE, component.VIEW_ROLE)
        for s in b["subjects"]
    }
    assert subjects == {
        ("Group", "scientists"),
        ("Group", "analysts"),
        ("ServiceAccount", "jupyter-user"),
    }


def test_the_workspace_example_uses_only_what_the_workspace_may_do() -> None:
    graph = example("fraud").graph
    example_script = _objects(graph, "ConfigMap")[component.EXAMPLES_CONFIGMAP]["data"][
        component.EXAMPLE_KEY
    ]
    compile(example_script, component.EXAMPLE_KEY, "exec")  # valid Python
    # every workspace sees it, read-only
    (hub,) = [
        r
        for r in graph.of_type("kubernetes:helm.sh/v3:Release")
        if str(r.inputs["chart"]).endswith("jupyterhub")
    ]
    storage = hub.inputs["values"]["singleuser"]["storage"]
    volume = storage["extraVolumes"]["pipelines-examples"]
    assert volume["configMap"]["name"] == component.EXAMPLES_CONFIGMAP
    assert [i["key"] for i in volume["configMap"]["items"]] == [component.EXAMPLE_KEY]
    mount = storage["extraVolumeMounts"]["pipelines-examples"]
    assert mount["mountPath"] == "/home/jovyan/pipelines-examples"
    # the calls it makes: read a CronJob, create a Job, create a Workflow, list pods, read logs
    for verb, group, resource in (
        ("get", "batch", "cronjobs"),
        ("create", "batch", "jobs"),
        ("create", "argoproj.io", "workflows"),
        ("list", "", "pods"),
        ("get", "", "pods/log"),
    ):
        assert _allowed(graph, WORKSPACE, verb, group, resource), (verb, resource)


# --- schedules and cost ---------------------------------------------------------------------


def test_runs_per_month() -> None:
    assert runs_per_month("0 2 * * *") == pytest.approx(365 / 12)
    assert runs_per_month("0 3 * * 0") == pytest.approx(52 / 12)  # 2025 has 52 Sundays
    assert runs_per_month("*/15 9-17 * * MON-FRI") == pytest.approx(261 * 9 * 4 / 12)
    assert runs_per_month("0 0 1,15 * 1") > runs_per_month("0 0 1,15 * *")  # either day


def test_fraud_cost_shows_the_scheduled_compute_apart() -> None:
    env = example("fraud")
    report = estimate(env.graph, env.spec, price_table())
    lines = {line.resource.rsplit(" ", 1)[-1]: line for line in report.lines if line.scheduled}
    assert set(lines) == {
        "pipelines-job-retrain-nightly",
        "pipelines-workflow-features",
        "pipelines-spark-etl-weekly",
    }
    prices = price_table()["instances"]
    large_spot = prices["r7i.4xlarge"]["spot"]
    assert lines["pipelines-job-retrain-nightly"].scheduled == pytest.approx(
        round(365 / 12 * 2 * large_spot, 2)
    )
    small = prices["m7i.large"]["on_demand"]
    assert lines["pipelines-spark-etl-weekly"].scheduled == pytest.approx(
        round(52 / 12 * 1 * (small + 8 * large_spot), 2)
    )
    # apart: the always-on figures do not change with the schedules
    assert all(line.idle == 0 and line.peak == 0 for line in lines.values())
    assert report.scheduled == pytest.approx(sum(line.scheduled for line in lines.values()))
    assert report.to_json()["monthly"]["scheduled"] == report.scheduled


# --- EMR on EKS ---------------------------------------------------------------------------


def _emr_team(tmp_path: Path, engine: str) -> Offline:
    org = (PROFILES / "org" / "acme.yaml").resolve()
    profile = tmp_path / "ledger.yaml"
    profile.write_text(
        f"""apiVersion: dsenv/v1
kind: Team
name: ledger
extends: {org}
tiers:
  small: {{cpu: 1.5, memory: 6Gi, instance_types: [m7i.large], min_nodes: 1, max_nodes: 3}}
  large: {{cpu: 15, memory: 64Gi, instance_types: [r7i.4xlarge], max_nodes: 4}}
spark: {{engine: {engine}, driver_tier: small, executor_tier: large, max_executors: 8}}
pipelines:
  time_zone: Europe/Berlin
  spark_jobs:
    - {{name: etl-weekly, main: "s3://acme-ledger-data/jobs/etl.py", schedule: "0 3 * * 0", executors: 4}}
budget: {{monthly_usd: 3000}}
""",
        encoding="utf-8",
    )
    return offline(profile)


def test_emr_serverless_spark_jobs_start_job_runs_of_the_team_application(
    tmp_path: Path,
) -> None:
    env = _emr_team(tmp_path, "emr-serverless")
    (schedule,) = env.graph.of_type("aws:scheduler/schedule:Schedule")
    target = schedule.inputs["target"]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:emrserverless:startJobRun"
    run = json.loads(target["input"])
    (app,) = env.graph.of_type("aws:emrserverless/application:Application")
    assert run["applicationId"] == app.outputs["id"]
    assert run["jobDriver"]["sparkSubmit"]["entryPoint"] == "s3://acme-ledger-data/jobs/etl.py"
    assert run["executionTimeoutMinutes"] == 60
    (policy,) = [
        p
        for p in env.graph.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.name == "pipelines-emr-scheduler"
    ]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["StartJobRuns"]["Action"] == "emr-serverless:StartJobRun"
    assert statements["StartJobRuns"]["Resource"].endswith(f"/applications/{app.outputs['id']}")
    # cost: pay per use, the run's vCPU- and GB-hours
    report = estimate(env.graph, env.spec, price_table())
    (line,) = [line for line in report.lines if line.scheduled]
    rates = price_table()["emr_serverless"]
    vcpu, gb = 1.5 + 4 * 15, 6 + 4 * 64  # the driver on small, 4 executors on large
    assert line.scheduled == pytest.approx(
        round(52 / 12 * (vcpu * rates["vcpu_hour"] + gb * rates["gb_hour"]), 2)
    )


def test_emr_spark_jobs_are_eventbridge_schedules_that_start_job_runs(tmp_path: Path) -> None:
    env = _emr_team(tmp_path, "emr-on-eks")
    (schedule,) = env.graph.of_type("aws:scheduler/schedule:Schedule")
    assert schedule.capability == "pipelines"
    inputs = schedule.inputs
    assert inputs["name"] == "acme-ledger-etl-weekly"
    assert inputs["scheduleExpression"] == "cron(0 3 ? * 1 *)"  # Sunday is 1 in EventBridge
    assert inputs["scheduleExpressionTimezone"] == "Europe/Berlin"
    target = inputs["target"]
    assert target["arn"] == START_JOB_RUN
    run = json.loads(target["input"])
    (virtual,) = env.graph.of_type("aws:emrcontainers/virtualCluster:VirtualCluster")
    assert run["virtualClusterId"] == virtual.outputs["id"]
    assert run["clientToken"] == "<aws.scheduler.execution-id>"
    assert run["releaseLabel"].startswith("emr-")
    driver = run["jobDriver"]["sparkSubmitJobDriver"]
    assert driver["entryPoint"] == "s3://acme-ledger-data/jobs/etl.py"
    assert "--conf spark.executor.instances=4" in driver["sparkSubmitParameters"]
    # the scheduler's role may start runs on this virtual cluster and pass the job role only
    roles = {r.inputs.get("name"): r for r in env.graph.of_type("aws:iam/role:Role")}
    scheduler = roles["acme-ledger-pipelines-scheduler"]
    trust = json.loads(scheduler.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    (policy,) = [
        p
        for p in env.graph.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.name == "pipelines-emr-scheduler"
    ]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["StartJobRuns"]["Resource"].endswith(
        f"/virtualclusters/{virtual.outputs['id']}"
    )
    assert statements["PassJobRole"]["Action"] == "iam:PassRole"


def test_eventbridge_cron() -> None:
    assert eventbridge("0 2 * * *") == "cron(0 2 * * ? *)"
    assert eventbridge("*/15 9-17 * * 1-5") == "cron(0/15 9-17 ? * 2-6 *)"
    with pytest.raises(ValueError, match="day of month and a day of week"):
        eventbridge("0 0 1 * 1")
