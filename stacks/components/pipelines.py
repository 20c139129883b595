"""Pipelines: the team's scheduled jobs (CronJobs), scheduled Spark jobs
(ScheduledSparkApplications) and workflows (Argo Workflows), the identity they run as, and
who may submit, trigger and watch them.

Argo Workflows, installed for the team (`target.operators: install`, when the profile has a
workflow) in `<team>-argo`, runs namespaced (`singleNamespace`, the chart's `--namespaced`)
and manages only the team namespace (`--managed-namespace`, Argo's "Managed Namespace"
install: https://argo-workflows.readthedocs.io/en/stable/managed-namespace/). Its rights in
the team namespace are a Role dsenv writes, the rules of Argo's own namespace install
(argoproj/argo-workflows manifests/namespace-install/workflow-controller-rbac/
workflow-controller-role.yaml). The UI (argo-server) is not deployed: runs, status and logs are
read through the Kubernetes API (kubectl, the argo CLI, or the example in the workspace), with
the RBAC below. Logs and artifacts go to the team's bucket (aws, through the pipelines role) or
its object store (kubernetes), by the namespace's `artifact-repositories` ConfigMap.

RBAC: `pipelines-submit` (create and trigger jobs and workflows, read runs and logs) for the
submitter groups and the workspace identity, `pipelines-view` (read runs and logs) for the
viewer groups. Groups are bound as Kubernetes groups of the same name: the cluster's
authenticator (an OIDC groups claim, EKS access entries) must put a user in that group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from dsenv.capabilities import component_type
from dsenv.spec.base import restricted_labels
from dsenv.spec.pipelines import (
    ARTIFACT_REPOSITORIES,
    ARTIFACT_REPOSITORY_KEY,
    EXAMPLE_KEY,
    EXAMPLES_CONFIGMAP,
    ON_DEMAND_SCHEDULE,
    TIER_LABEL,
    PipelinesSpec,
    PodSpec,
    ScheduledJobSpec,
    SparkJobSpec,
    WorkflowSpec,
)
from dsenv.spec.spark import SparkSpec
from dsenv.spec.tiers import NodePoolSpec, mebibytes
from dsenv.stacks.components.kube import helm_release, manifest_resource, service_account
from dsenv.stacks.components.namespace import namespace_manifest
from dsenv.stacks.components.podsecurity import (
    NOBODY,
    restricted_container_context,
    restricted_pod_context,
)

RBAC = "rbac.authorization.k8s.io"
SUBMIT_ROLE = "pipelines-submit"
VIEW_ROLE = "pipelines-view"
RUNNER_ROLE = "pipeline-runner"
CONTROLLER_ROLE = "argo-workflow-controller"
#: Finished runs stay a week, so their status and logs can be read.
KEEP_SECONDS = 7 * 24 * 3600
#: The Spark operator's HEAP share of a pod's memory, as the team's SparkApplication template.
HEAP_FRACTION = 0.8

_READ = ["get", "list", "watch"]
#: checkov's image checks that the team image cannot meet, and why (checkov reads
#: `checkov.io/skip<n>: <check>=<reason>` annotations).
CHECKOV_SKIPS = {
    "checkov.io/skip1": "CKV_K8S_40=the team image runs as its user jovyan, uid 1000",
    "checkov.io/skip2": "CKV_K8S_43=the team image tag is derived from its build inputs; "
    "its digest exists only once it is pushed",
}


def _meta(spec: PipelinesSpec, name: str, **labels: str) -> dict[str, Any]:
    return {"name": name, "namespace": spec.namespace, "labels": {**spec.labels, **labels}}


def _role(spec: PipelinesSpec, name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": _meta(spec, name),
        "rules": rules,
    }


def _binding(
    spec: PipelinesSpec, name: str, role: str, subjects: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding",
        "metadata": _meta(spec, name),
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": role},
        "subjects": subjects,
    }


def _group(name: str) -> dict[str, Any]:
    return {"apiGroup": RBAC, "kind": "Group", "name": name}


def _account(name: str, namespace: str) -> dict[str, Any]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def _view_rules(spec: PipelinesSpec) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {"apiGroups": ["batch"], "resources": ["cronjobs", "jobs"], "verbs": _READ},
        {"apiGroups": [""], "resources": ["pods", "pods/log", "events"], "verbs": _READ},
    ]
    if spec.workflows:
        rules.append(
            {
                "apiGroups": ["argoproj.io"],
                "resources": ["workflows", "workflowtemplates", "cronworkflows"],
                "verbs": _READ,
            }
        )
    if spec.spark_jobs and spec.spark_engine == "operator":
        rules.append(
            {
                "apiGroups": ["sparkoperator.k8s.io"],
                "resources": ["sparkapplications", "scheduledsparkapplications"],
                "verbs": _READ,
            }
        )
    return rules


def _submit_rules(spec: PipelinesSpec) -> list[dict[str, Any]]:
    """Read everything the viewers read; trigger a job (a Job from its CronJob), suspend or
    resume a schedule, submit a workflow from its template, stop or delete a run."""
    rules = _view_rules(spec)
    rules += [
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "delete"]},
        {"apiGroups": ["batch"], "resources": ["cronjobs"], "verbs": ["patch"]},
    ]
    if spec.workflows:
        rules += [
            {
                "apiGroups": ["argoproj.io"],
                "resources": ["workflows"],
                "verbs": ["create", "patch", "delete"],
            },
            {"apiGroups": ["argoproj.io"], "resources": ["cronworkflows"], "verbs": ["patch"]},
        ]
    if spec.spark_jobs and spec.spark_engine == "operator":
        rules += [
            {
                "apiGroups": ["sparkoperator.k8s.io"],
                "resources": ["sparkapplications"],
                "verbs": ["create", "delete"],
            },
            {
                "apiGroups": ["sparkoperator.k8s.io"],
                "resources": ["scheduledsparkapplications"],
                "verbs": ["patch"],
            },
        ]
    return rules


def rbac_manifests(spec: PipelinesSpec) -> list[dict[str, Any]]:
    """The submit and view Roles and their bindings (groups, the workspace identity), and what
    the jobs' own identity needs: report a step's outputs to Argo (`workflowtaskresults`,
    the executor's minimal rights: https://argo-workflows.readthedocs.io/en/stable/workflow-rbac/)."""
    out = [
        _role(spec, SUBMIT_ROLE, _submit_rules(spec)),
        _role(spec, VIEW_ROLE, _view_rules(spec)),
    ]
    submitters = [_group(g) for g in spec.submitters]
    if spec.workspace_service_account:
        submitters.append(_account(spec.workspace_service_account, spec.namespace))
    if submitters:
        out.append(_binding(spec, SUBMIT_ROLE, SUBMIT_ROLE, submitters))
    if spec.viewers:
        out.append(_binding(spec, VIEW_ROLE, VIEW_ROLE, [_group(g) for g in spec.viewers]))
    if spec.workflows:
        out.append(
            _role(
                spec,
                RUNNER_ROLE,
                [
                    {
                        "apiGroups": ["argoproj.io"],
                        "resources": ["workflowtaskresults"],
                        "verbs": ["create", "patch"],
                    }
                ],
            )
        )
        out.append(
            _binding(
                spec, RUNNER_ROLE, RUNNER_ROLE, [_account(spec.service_account, spec.namespace)]
            )
        )
    return out


def controller_rbac(spec: PipelinesSpec) -> list[dict[str, Any]]:
    """The installed controller's rights in the team namespace, and nowhere else."""
    rules: list[dict[str, Any]] = [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["create", "get", "update"],
        },
        {
            "apiGroups": [""],
            "resources": ["pods", "pods/exec"],
            "verbs": ["create", "get", "list", "watch", "update", "patch", "delete"],
        },
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "watch", "list"]},
        {
            "apiGroups": [""],
            "resources": ["persistentvolumeclaims", "persistentvolumeclaims/finalizers"],
            "verbs": ["create", "update", "delete", "get"],
        },
        {
            "apiGroups": ["argoproj.io"],
            "resources": [
                "workflows",
                "workflows/finalizers",
                "workflowtasksets",
                "workflowtasksets/finalizers",
                "workflowartifactgctasks",
            ],
            "verbs": ["get", "list", "watch", "update", "patch", "delete", "create"],
        },
        {
            "apiGroups": ["argoproj.io"],
            "resources": ["workflowtemplates", "workflowtemplates/finalizers"],
            "verbs": ["get", "list", "watch"],
        },
        {
            "apiGroups": ["argoproj.io"],
            "resources": ["workflowtaskresults"],
            "verbs": ["list", "watch", "deletecollection"],
        },
        {
            "apiGroups": ["argoproj.io"],
            "resources": ["workflowactions"],
            "verbs": ["create", "get", "list", "watch", "delete"],
        },
        {
            "apiGroups": ["argoproj.io"],
            "resources": ["workflowactions/status"],
            "verbs": ["update"],
        },
        {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["get", "list"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
        {
            "apiGroups": ["argoproj.io"],
            "resources": ["cronworkflows", "cronworkflows/finalizers"],
            "verbs": ["get", "list", "watch", "update", "patch", "delete"],
        },
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        {
            "apiGroups": ["policy"],
            "resources": ["poddisruptionbudgets"],
            "verbs": ["create", "get", "delete"],
        },
    ]
    return [
        _role(spec, CONTROLLER_ROLE, rules),
        _binding(
            spec,
            CONTROLLER_ROLE,
            CONTROLLER_ROLE,
            [_account(spec.controller_service_account, spec.controller_namespace)],
        ),
    ]


def controller_values(spec: PipelinesSpec) -> dict[str, Any]:
    """Argo Workflows chart values: namespaced, managing the team namespace only, no UI, every
    pod (controller, and the executor and main containers of workflow pods) `restricted`."""
    pod = restricted_pod_context(run_as_user=NOBODY, run_as_group=NOBODY)
    container = restricted_container_context(read_only_root=True)
    return {
        "singleNamespace": True,
        "createAggregateRoles": False,
        "controller": {
            "workflowNamespaces": [spec.namespace],
            "extraArgs": ["--managed-namespace", spec.namespace],
            "serviceAccount": {"create": True, "name": spec.controller_service_account},
            "clusterWorkflowTemplates": {"enabled": False},
            "podSecurityContext": pod,
            "securityContext": container,
        },
        # workflow pods: dsenv owns their service account and RBAC in the team namespace
        "workflow": {"serviceAccount": {"create": False}, "rbac": {"create": False}},
        "executor": {"securityContext": restricted_container_context(run_as_user=spec.uid)},
        "mainContainer": {"securityContext": restricted_container_context(run_as_user=spec.uid)},
        # the UI is not exposed: runs and logs are read through the Kubernetes API
        "server": {"enabled": False},
    }


def artifact_repositories(spec: PipelinesSpec) -> dict[str, Any] | None:
    """The namespace's default artifact repository: logs archived with every run."""
    store = spec.artifacts
    if store is None:
        return None
    s3: dict[str, Any] = {
        "bucket": store.bucket,
        "endpoint": store.endpoint,
        "region": store.region,
        "insecure": store.insecure,
        "keyFormat": "argo/{{workflow.name}}/{{pod.name}}",
    }
    if store.credentials_secret:
        s3["accessKeySecret"] = {"name": store.credentials_secret, "key": "AWS_ACCESS_KEY_ID"}
        s3["secretKeySecret"] = {"name": store.credentials_secret, "key": "AWS_SECRET_ACCESS_KEY"}
    else:
        s3["useSDKCreds"] = True  # the pipelines role, by IRSA
    import yaml

    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            **_meta(spec, ARTIFACT_REPOSITORIES),
            "annotations": {
                "workflows.argoproj.io/default-artifact-repository": ARTIFACT_REPOSITORY_KEY
            },
        },
        "data": {
            ARTIFACT_REPOSITORY_KEY: yaml.safe_dump(
                {"archiveLogs": True, "s3": s3}, sort_keys=False
            )
        },
    }


def _resources(pool: NodePoolSpec) -> dict[str, Any]:
    """The tier's own size, requested and limited alike."""
    size: dict[str, Any] = {"cpu": f"{pool.cpu_millis}m", "memory": mebibytes(pool.memory_bytes)}
    if pool.gpus:
        size[pool.gpu_resource] = str(pool.gpus)
    return {"requests": dict(size), "limits": dict(size)}


#: Where a pod's referenced secrets appear, one folder per secret, one file per key (files
#: rather than environment variables: they do not leak into child processes or crash dumps).
SECRETS_DIR = "/etc/dsenv/secrets"
#: The root filesystem is read-only: /tmp is the run's scratch space, and caches go there.
SCRATCH = "/tmp"


def _env(spec: PipelinesSpec, pod: PodSpec) -> dict[str, Any]:
    env = [{"name": k, "value": v} for k, v in sorted(pod.env.items())]
    env.append({"name": "XDG_CACHE_HOME", "value": f"{SCRATCH}/.cache"})
    if pod.secrets:
        env.append({"name": "DSENV_SECRETS_DIR", "value": SECRETS_DIR})
    if spec.object_store is not None:
        env += spec.object_store.env()
    return {
        "env": env,
        "volumeMounts": [
            {"name": "scratch", "mountPath": SCRATCH},
            *(
                {"name": f"secret-{s}", "mountPath": f"{SECRETS_DIR}/{s}", "readOnly": True}
                for s in pod.secrets
            ),
        ],
    }


def _volumes(pod: PodSpec) -> list[dict[str, Any]]:
    return [
        {"name": "scratch", "emptyDir": {}},
        *({"name": f"secret-{s}", "secret": {"secretName": s}} for s in pod.secrets),
    ]


def _placement(pool: NodePoolSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if pool.node_selector:
        out["nodeSelector"] = dict(pool.node_selector)
    if pool.tolerations:
        out["tolerations"] = pool.toleration_manifests()
    return out


def _container(spec: PipelinesSpec, pod: PodSpec, image: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": pod.image or image,
        "imagePullPolicy": "Always",
        "command": list(pod.command),
        **_env(spec, pod),
        "resources": _resources(pod.pool),
        "securityContext": restricted_container_context(
            run_as_user=spec.uid, run_as_group=spec.gid, read_only_root=True
        ),
    }


def _pod_context(spec: PipelinesSpec) -> dict[str, Any]:
    return restricted_pod_context(run_as_user=spec.uid, run_as_group=spec.gid, fs_group=spec.gid)


def _pull(spec: PipelinesSpec) -> dict[str, Any]:
    return (
        {"imagePullSecrets": [{"name": spec.image_pull_secret}]} if spec.image_pull_secret else {}
    )


def cron_job(spec: PipelinesSpec, job: ScheduledJobSpec, image: str) -> dict[str, Any]:
    """A job as a CronJob; on demand only: suspended, triggered with
    `kubectl create job --from=cronjob/<name>`."""
    pod = job.pod
    labels = {"dsenv.io/pipeline": job.name, TIER_LABEL: pod.pool.tier}
    schedule: dict[str, Any] = {"schedule": job.schedule or ON_DEMAND_SCHEDULE}
    if job.time_zone:
        schedule["timeZone"] = job.time_zone
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {**_meta(spec, job.name, **labels), "annotations": dict(CHECKOV_SKIPS)},
        "spec": {
            **schedule,
            "concurrencyPolicy": job.concurrency,
            "suspend": job.schedule is None,
            "startingDeadlineSeconds": 600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": {**spec.labels, **labels}},
                "spec": {
                    "backoffLimit": pod.retries,
                    "activeDeadlineSeconds": pod.timeout_seconds,
                    "ttlSecondsAfterFinished": KEEP_SECONDS,
                    "template": {
                        "metadata": {"labels": {**spec.labels, **labels}},
                        "spec": {
                            "serviceAccountName": spec.service_account,
                            # a job needs no Kubernetes API token (IRSA mounts its own)
                            "automountServiceAccountToken": False,
                            "restartPolicy": "Never",
                            "securityContext": _pod_context(spec),
                            **_placement(pod.pool),
                            **_pull(spec),
                            "containers": [_container(spec, pod, image, "job")],
                            "volumes": _volumes(pod),
                        },
                    },
                },
            },
        },
    }


def _step_template(spec: PipelinesSpec, pod: PodSpec, image: str) -> dict[str, Any]:
    container = _container(spec, pod, image, "main")
    del container["name"]  # Argo names a template's container `main` itself
    template: dict[str, Any] = {
        "name": pod.name,
        "metadata": {"labels": {TIER_LABEL: pod.pool.tier}},
        "activeDeadlineSeconds": pod.timeout_seconds,
        "container": container,
        "volumes": _volumes(pod),
        **_placement(pod.pool),
    }
    if pod.retries:
        template["retryStrategy"] = {"limit": pod.retries, "retryPolicy": "OnFailure"}
    return template


def workflow_spec(spec: PipelinesSpec, flow: WorkflowSpec, image: str) -> dict[str, Any]:
    """A workflow's spec: a DAG `main` over one container template per step."""
    tasks = []
    for step in flow.steps:
        task: dict[str, Any] = {"name": step.pod.name, "template": step.pod.name}
        if step.depends:
            task["dependencies"] = list(step.depends)
        tasks.append(task)
    out: dict[str, Any] = {
        "entrypoint": "main",
        "serviceAccountName": spec.service_account,
        "securityContext": _pod_context(spec),
        "activeDeadlineSeconds": flow.timeout_seconds,
        "ttlStrategy": {"secondsAfterCompletion": KEEP_SECONDS},
        "podMetadata": {"labels": {**spec.labels, "dsenv.io/pipeline": flow.name}},
        **_pull(spec),
        "templates": [
            {"name": "main", "dag": {"tasks": tasks}},
            *(_step_template(spec, s.pod, image) for s in flow.steps),
        ],
    }
    if spec.artifacts is not None:
        out["archiveLogs"] = True
    return out


def workflow_template(spec: PipelinesSpec, flow: WorkflowSpec, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": _meta(spec, flow.name, **{"dsenv.io/pipeline": flow.name}),
        "spec": workflow_spec(spec, flow, image),
    }


def cron_workflow(spec: PipelinesSpec, flow: WorkflowSpec) -> dict[str, Any]:
    """A scheduled workflow: runs its WorkflowTemplate on the schedule."""
    assert flow.schedule is not None
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": _meta(spec, flow.name, **{"dsenv.io/pipeline": flow.name}),
        "spec": {
            "schedules": [flow.schedule],
            "timezone": flow.time_zone or "UTC",
            "concurrencyPolicy": flow.concurrency,
            "startingDeadlineSeconds": 600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "workflowSpec": {"workflowTemplateRef": {"name": flow.name}},
        },
    }


def _spark_pod(spark: SparkSpec, pool: NodePoolSpec, spec: PipelinesSpec) -> dict[str, Any]:
    uid, gid = spark.uid, spark.gid
    pod: dict[str, Any] = {
        "cores": max(1, pool.cpu_millis // 1000),
        "coreLimit": f"{pool.cpu_millis}m",
        "memory": f"{int(pool.memory_bytes * HEAP_FRACTION) // 2**20}m",
        "labels": {**spec.labels, TIER_LABEL: pool.tier},
        "podSecurityContext": restricted_pod_context(
            run_as_user=uid, run_as_group=gid, fs_group=gid
        ),
        "securityContext": restricted_container_context(run_as_user=uid, run_as_group=gid),
    }
    if pool.node_selector:
        pod["nodeSelector"] = dict(pool.node_selector)
    if pool.tolerations:
        pod["tolerations"] = pool.toleration_manifests()
    if pool.gpus:
        pod["gpu"] = {"name": pool.gpu_resource, "quantity": pool.gpus}
    if spark.object_store is not None:
        pod["env"] = spark.object_store.env()
    return pod


def scheduled_spark_application(
    spec: PipelinesSpec, spark: SparkSpec, job: SparkJobSpec, image: str
) -> dict[str, Any]:
    """A Spark job on the operator: each run a SparkApplication on the team's Spark tiers, as
    the team's `spark` service account."""
    template: dict[str, Any] = {
        "type": "Python",
        "pythonVersion": "3",
        "mode": "cluster",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "mainApplicationFile": job.main,
        "sparkVersion": spark.spark_version,
        "restartPolicy": {"type": "Never"},
        "timeToLiveSeconds": KEEP_SECONDS,
        "driver": {
            **_spark_pod(spark, spark.driver, spec),
            "serviceAccount": spark.service_account,
        },
        "executor": {**_spark_pod(spark, spark.executor, spec), "instances": job.executors},
    }
    if job.arguments:
        template["arguments"] = list(job.arguments)
    if spark.image_pull_secret:
        template["imagePullSecrets"] = [spark.image_pull_secret]
    if spark.object_store is not None:
        template["sparkConf"] = spark.object_store.spark_conf()
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "ScheduledSparkApplication",
        "metadata": _meta(spec, job.name, **{"dsenv.io/pipeline": job.name}),
        "spec": {
            "schedule": job.schedule,
            "timeZone": job.time_zone,
            "concurrencyPolicy": job.concurrency,
            "successfulRunHistoryLimit": 3,
            "failedRunHistoryLimit": 3,
            "template": template,
        },
    }


EXAMPLE = '''\
"""Trigger a dsenv pipeline from this workspace and follow it: standard library only.

    python run_pipeline.py job <name>        # run a scheduled job now (a Job from its CronJob)
    python run_pipeline.py workflow <name>   # submit a workflow from its WorkflowTemplate

The workspace's service account may create jobs and workflows in the team namespace and read
their pods and logs (the pipelines-submit Role dsenv binds to it).
"""

import json
import ssl
import sys
import time
import urllib.request

SA = "/var/run/secrets/kubernetes.io/serviceaccount"
API = "https://kubernetes.default.svc"
NAMESPACE = open(f"{SA}/namespace").read().strip()
TOKEN = open(f"{SA}/token").read().strip()
TLS = ssl.create_default_context(cafile=f"{SA}/ca.crt")


def call(method, path, body=None):
    request = urllib.request.Request(
        API + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=TLS) as response:
        text = response.read().decode()
    return json.loads(text) if text.startswith("{") else text


def run_job(name):
    ns = f"/apis/batch/v1/namespaces/{NAMESPACE}"
    cron = call("GET", f"{ns}/cronjobs/{name}")
    job = call("POST", f"{ns}/jobs", {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"generateName": f"{name}-manual-", "labels": cron["spec"]["jobTemplate"]["metadata"].get("labels", {})},
        "spec": cron["spec"]["jobTemplate"]["spec"],
    })
    return job["metadata"]["name"], f"job-name={job['metadata']['name']}"


def run_workflow(name):
    path = f"/apis/argoproj.io/v1alpha1/namespaces/{NAMESPACE}/workflows"
    flow = call("POST", path, {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": f"{name}-"},
        "spec": {"workflowTemplateRef": {"name": name}},
    })
    return flow["metadata"]["name"], f"workflows.argoproj.io/workflow={flow['metadata']['name']}"


def follow(selector):
    pods = f"/api/v1/namespaces/{NAMESPACE}/pods"
    while True:
        items = call("GET", f"{pods}?labelSelector={selector}")["items"]
        phases = {p["metadata"]["name"]: p["status"].get("phase") for p in items}
        print(phases)
        if items and all(phase in ("Succeeded", "Failed") for phase in phases.values()):
            break
        time.sleep(10)
    for pod in phases:
        print(f"--- {pod}")
        container = "main" if "workflow" in selector else "job"
        print(call("GET", f"{pods}/{pod}/log?container={container}"))


if __name__ == "__main__":
    kind, name = sys.argv[1], sys.argv[2]
    run, selector = run_job(name) if kind == "job" else run_workflow(name)
    print("started", run)
    follow(selector)
'''


def examples_configmap(spec: PipelinesSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(spec, EXAMPLES_CONFIGMAP),
        "data": {EXAMPLE_KEY: EXAMPLE},
    }


@dataclass
class PipelinesArgs:
    pipelines: PipelinesSpec
    image: pulumi.Input[str]  # the team image (aws: from the team registry)
    spark: SparkSpec | None = None  # the team's Spark (ScheduledSparkApplications)
    role_arn: pulumi.Input[str] | None = None  # aws: the pipelines IRSA role


class Pipelines(pulumi.ComponentResource):
    """The team's jobs, Spark jobs and workflows, their identity and RBAC, and (installed)
    the Argo Workflows controller."""

    def __init__(
        self, name: str, args: PipelinesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("pipelines", "Pipelines"), name, None, opts)
        spec = args.pipelines
        child = pulumi.ResourceOptions(parent=self)
        image = pulumi.Output.from_input(args.image)
        if spec.install_controller:
            assert spec.chart is not None
            ns = manifest_resource(
                f"{name}-controller-namespace",
                namespace_manifest(spec.controller_namespace, restricted_labels(spec.labels)),
                child,
            )
            helm_release(
                f"{name}-argo",
                spec.chart,
                namespace=spec.controller_namespace,
                values=controller_values(spec),
                release_name=spec.release,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[ns]),
            )
            for manifest in controller_rbac(spec):
                manifest_resource(f"{name}-controller-{manifest['kind'].lower()}", manifest, child)
        service_account(
            f"{name}-sa",
            name=spec.service_account,
            namespace=spec.namespace,
            labels=spec.labels,
            role_arn=args.role_arn,
            opts=child,
        )
        for manifest in rbac_manifests(spec):
            kind = manifest["kind"].lower()
            manifest_resource(f"{name}-{kind}-{manifest['metadata']['name']}", manifest, child)
        repositories = artifact_repositories(spec) if spec.workflows else None
        if repositories is not None:
            manifest_resource(f"{name}-artifact-repositories", repositories, child)
        manifest_resource(f"{name}-examples", examples_configmap(spec), child)

        def resolved(build: Any) -> dict[str, Any]:
            """A manifest whose spec holds the image (an output on aws)."""
            first = build(spec.image)
            return {
                "apiVersion": first["apiVersion"],
                "kind": first["kind"],
                "metadata": first["metadata"],
                "spec": image.apply(lambda img: build(img)["spec"]),
            }

        for job in spec.jobs:
            manifest_resource(
                f"{name}-job-{job.name}",
                resolved(lambda img, job=job: cron_job(spec, job, img)),
                child,
            )
        for flow in spec.workflows:
            template = manifest_resource(
                f"{name}-workflow-{flow.name}",
                resolved(lambda img, flow=flow: workflow_template(spec, flow, img)),
                child,
            )
            if flow.schedule:
                manifest_resource(
                    f"{name}-cron-workflow-{flow.name}",
                    cron_workflow(spec, flow),
                    pulumi.ResourceOptions(parent=self, depends_on=[template]),
                )
        if spec.spark_engine == "operator" and args.spark is not None:
            spark = args.spark
            for sjob in spec.spark_jobs:
                manifest_resource(
                    f"{name}-spark-{sjob.name}",
                    resolved(
                        lambda img, sjob=sjob: scheduled_spark_application(spec, spark, sjob, img)
                    ),
                    child,
                )
        self.register_outputs({})
