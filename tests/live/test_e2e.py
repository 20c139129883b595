"""End to end: dsenv's own commands with the real Pulumi CLI and Kubernetes provider against a
real kube-apiserver (etcd, kube-apiserver and kube-controller-manager on loopback).

What it needs, and where it comes from: `scripts/e2e-toolchain` builds the binaries (its bin
folder in DSENV_E2E_BIN), `scripts/e2e-cluster start` runs the control plane (its kubeconfig in
DSENV_E2E_KUBECONFIG); `.ci/run` does both where Go is installed. Without them every test here
skips, naming what is missing. The versions the run used are in pytest's header.

The team is a `target.operators: shared` profile on the cluster's context with Spark, Strimzi
Kafka and KServe serving: the cluster's platform team would run the operators, so the fixture
applies their CRDs from `../shared/upstream/` and no Helm release is needed. There is no kubelet,
so nothing ever becomes ready: the commands run with DSENV_SKIP_AWAIT=true (the program asks
the provider not to wait, `dsenv.stacks.components.kube.skip_await`). Pods are admitted (Pod
Security, quota, limit ranges) but never run, which is what the pod-template test needs.

The tests run in order on one stack, as a user would: up (interrupted once by Ctrl-C), the
objects on the server, the pods, outputs, preview, drift of both kinds, refresh, the lock,
destroy and restore.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from junitparser import JUnitXml
from testkit import UPSTREAM, e2e_missing

from dsenv.offline.capture import capture_spec
from dsenv.offline.graph import ResourceGraph
from dsenv.profile.load import load_team
from dsenv.spec.expand import expand_profile
from dsenv.stacks.components.podsecurity import pod_templates

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CONTEXT = "dsenv-e2e"  # the context scripts/e2e-cluster writes
TEAM = """\
apiVersion: dsenv/v1
kind: Team
name: edge
target:
  provider: kubernetes
  context: {context}
  kubernetes_version: "1.34"
  operators: shared
tags: {{cost-center: research}}
tiers:
  cpu: {{cpu: 1, memory: 2Gi, max_pods: 8}}
spark: {{engine: operator, driver_tier: cpu, executor_tier: cpu, max_executors: 2}}
kafka:
  engine: strimzi
  brokers: 1
  storage: 1Gi
  topics: [{{name: runs, partitions: {partitions}, retention: 1d}}]
  users: [{{name: pipeline, topics: [runs]}}]
serving:
  engine: kserve
  tier: cpu
  models:
    - {{name: scorer, framework: sklearn, storage_uri: "pvc://models/scorer/1", min_replicas: 1, max_replicas: 1}}
pipelines:
  time_zone: Europe/Berlin
  jobs:
    - {{name: refresh, command: [python, -c, "print('refreshed')"], tier: cpu, schedule: "0 6 * * 1-5", timeout: 10m}}
  spark_jobs:
    - {{name: etl, main: "local:///opt/spark/examples/src/main/python/pi.py", schedule: "0 3 * * 0", executors: 1, timeout: 30m}}
  workflows:
    - name: features
      schedule: "30 0 * * *"
      steps:
        - {{name: extract, command: [python, -c, "print('extract')"], tier: cpu, timeout: 10m}}
        - {{name: publish, command: [python, -c, "print('publish')"], tier: cpu, depends: [extract], timeout: 5m}}
"""
#: The CRDs of the shared operators the team uses (`dsenv doctor --profile` lists them).
CRDS = (
    "strimzi/040-Crd-kafka.yaml",
    "strimzi/043-Crd-kafkatopic.yaml",
    "strimzi/044-Crd-kafkauser.yaml",
    "strimzi/045-Crd-kafkanodepool.yaml",
    "kserve/serving.kserve.io_inferenceservices.yaml",
    "spark-operator/sparkoperator.k8s.io_sparkapplications.yaml",
    "spark-operator/sparkoperator.k8s.io_scheduledsparkapplications.yaml",
    "argo-workflows/argoproj.io_workflows.yaml",
    "argo-workflows/argoproj.io_workflowtemplates.yaml",
    "argo-workflows/argoproj.io_cronworkflows.yaml",
)
TIMEOUT = 600  # one dsenv command, at most (a loaded 2-core machine)


@dataclass
class E2E:
    root: Path
    bin: Path
    kubeconfig: str
    env: dict[str, str]
    graph: ResourceGraph
    deployed: bool = False
    log: list[str] = field(default_factory=list)

    @property
    def profile(self) -> Path:
        return self.root / "edge.yaml"

    @property
    def stack(self) -> str:
        return "edge"

    def write_profile(self, partitions: int = 3) -> None:
        self.profile.write_text(TEAM.format(context=CONTEXT, partitions=partitions), "utf-8")

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-c", "from dsenv.cli.app import main; main()", *args]

    def dsenv(self, *args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        run = subprocess.run(
            self.command(*args),
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.log.append(
            f"dsenv {' '.join(args)}: exit {run.returncode} in {time.monotonic() - started:.1f} s"
        )
        return run

    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "kubectl"), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    @property
    def backend(self) -> Path:
        return self.root / "home" / "state"

    def locks(self) -> list[Path]:
        folder = self.backend / ".pulumi" / "locks"
        return sorted(folder.rglob("*.json")) if folder.exists() else []

    def checkpoint(self) -> Path:
        return self.backend / ".pulumi" / "stacks" / "dsenv" / f"{self.stack}.json"

    def state(self) -> list[dict[str, Any]]:
        path = self.checkpoint()
        if not path.exists():
            return []
        latest = json.loads(path.read_text())["checkpoint"]["latest"] or {}
        resources: list[dict[str, Any]] = latest.get("resources") or []
        return resources

    def namespaces(self) -> list[str]:
        """The namespaces the program creates (from the offline capture of the same profile)."""
        return sorted(
            r.inputs["metadata"]["name"] for r in self.graph.of_type("kubernetes:core/v1:Namespace")
        )

    def up(self) -> None:
        """The stack deployed (a test that needs it when the Ctrl-C test did not get there)."""
        if not self.deployed:
            run = self.dsenv("up", str(self.profile), "--yes")
            assert run.returncode == 0, output(run)
            self.deployed = True


def output(run: subprocess.CompletedProcess[str]) -> str:
    return (
        f"exit {run.returncode}\n--- stdout\n{run.stdout[-6000:]}\n--- stderr\n{run.stderr[-6000:]}"
    )


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2E]:
    missing = e2e_missing()
    if missing:
        pytest.skip(missing)
    root = tmp_path_factory.mktemp("e2e")
    bin_ = Path(os.environ["DSENV_E2E_BIN"])
    kubeconfig = os.environ["DSENV_E2E_KUBECONFIG"]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PULUMI_", "DSENV_")) and k not in ("KUBECONFIG", "AWS_PROFILE")
    }
    env.update(
        {
            "PATH": os.pathsep.join([str(bin_), os.environ.get("PATH", "")]),
            "KUBECONFIG": kubeconfig,
            # no DSENV_BACKEND: the default file backend, $DSENV_HOME/state, made on first use
            "DSENV_HOME": str(root / "home"),
            "DSENV_SKIP_AWAIT": "true",
            "PULUMI_HOME": str(root / "pulumi-home"),
            "PULUMI_CONFIG_PASSPHRASE": "e2e-only",
            # the CLI and the provider plugin are the ones built here: never fetch another
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
    )
    profile = root / "edge.yaml"
    profile.write_text(TEAM.format(context=CONTEXT, partitions=3), "utf-8")
    e2e = E2E(root, bin_, kubeconfig, env, capture_spec(expand_profile(load_team(profile))))
    applied = []
    try:
        for crd in CRDS:
            path = UPSTREAM / crd
            name = yaml.safe_load(path.read_text())["metadata"]["name"]
            # another test may have just deleted it (--wait=false): let that finish first
            e2e.kubectl("wait", "--for=delete", f"crd/{name}", "--timeout=60s")
            done = e2e.kubectl("apply", "--server-side", "-f", str(path))
            assert done.returncode == 0, done.stderr
            applied.append(name)
        done = e2e.kubectl(
            "wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{n}" for n in applied)
        )
        assert done.returncode == 0, done.stderr
        yield e2e
    finally:
        print("\n".join(["", "e2e commands:", *e2e.log]))
        for ns in e2e.namespaces():
            e2e.kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found")
        for name in applied:
            e2e.kubectl("delete", "crd", name, "--wait=false", "--ignore-not-found")


# -- up, interrupted once ----------------------------------------------------------------------


def test_the_cli_refuses_a_missing_state_folder_which_is_why_dsenv_creates_it(e2e: E2E) -> None:
    missing = e2e.root / "missing"
    run = subprocess.run(
        [str(e2e.bin / "pulumi"), "stack", "init", "x", "--non-interactive"],
        env={**e2e.env, "PULUMI_BACKEND_URL": f"file://{missing}"},
        cwd=e2e.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert f'unable to open state directory "file://{missing}"' in run.stderr, run.stderr


def test_ctrl_c_during_up_leaves_no_lock_and_the_next_up_creates_everything(e2e: E2E) -> None:
    """SIGINT, as a terminal's Ctrl-C sends it to dsenv, while `up` holds the stack's lock:
    dsenv forwards it once, the engine finishes the steps in flight, saves the state and
    releases the lock, and dsenv exits 130. The next `up` carries on and succeeds."""
    process = subprocess.Popen(
        e2e.command("up", str(e2e.profile), "--yes"),
        env=e2e.env,
        cwd=e2e.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # `stack init` holds the lock for a moment too: wait for the stack to exist and that lock
    # to go, then for the update's own (the preview before it takes none)
    deadline = time.monotonic() + TIMEOUT
    for ready in (e2e.checkpoint().exists, lambda: not e2e.locks(), e2e.locks):
        while not ready() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    held = bool(e2e.locks())
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=TIMEOUT)
    run = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    assert held, "the update never took the stack's lock\n" + output(run)
    assert process.returncode == 130, output(run)
    # the engine's own "^C received; cancelling." event is shown when it arrives; the real
    # engine does not always send it before it stops (seen in about one run of three)
    assert "cancelled by Ctrl-C" in err, output(run)
    assert e2e.locks() == []
    # the default backend was created on first use, for the user alone
    assert stat.S_IMODE(e2e.backend.stat().st_mode) == 0o700
    again = e2e.dsenv("up", str(e2e.profile), "--yes")
    assert again.returncode == 0, output(again)
    e2e.deployed = True
    assert e2e.locks() == []


def test_up_created_every_object_and_the_api_server_holds_it(e2e: E2E) -> None:
    e2e.up()
    expected = {
        (r.type, r.inputs["metadata"].get("namespace"), r.inputs["metadata"]["name"])
        for r in e2e.graph
        if r.type.startswith("kubernetes:") and "metadata" in r.inputs
    }
    kinds = {t.rsplit(":", 1)[-1] for t, _, _ in expected}
    assert kinds >= {
        "Namespace",
        "ResourceQuota",
        "LimitRange",
        "NetworkPolicy",
        "Role",
        "RoleBinding",
        "ServiceAccount",
        "ConfigMap",
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
        "KafkaUser",
        "InferenceService",
        "CronJob",
        "ScheduledSparkApplication",
        "WorkflowTemplate",
        "CronWorkflow",
    }
    in_state = {
        (r["type"], r["outputs"]["metadata"].get("namespace"), r["outputs"]["metadata"]["name"])
        for r in e2e.state()
        if r["type"].startswith("kubernetes:") and "metadata" in (r.get("outputs") or {})
    }
    assert in_state == expected
    for type_, namespace, name in sorted(
        expected, key=lambda e: e[0] != "kubernetes:core/v1:Namespace"
    ):
        group_version, kind = type_.removeprefix("kubernetes:").rsplit(":", 1)
        group = group_version.split("/")[0]
        resource = kind.lower() if group == "core" else f"{kind.lower()}.{group}"
        args = ["get", resource, name, "-o", "json"] + (["-n", namespace] if namespace else [])
        got = e2e.kubectl(*args)
        assert got.returncode == 0, f"{type_} {namespace}/{name}: {got.stderr}"
        live = json.loads(got.stdout)
        # the provider was asked not to wait, and said so on the object
        assert live["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
    namespace = e2e.kubectl("get", "namespace", "edge", "-o", "json")
    labels = json.loads(namespace.stdout)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def _pods(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The pods an operator would start for a custom resource, as far as dsenv writes them:
    its pod and container security contexts, and where given the service account, node
    selector, tolerations and resources. What dsenv leaves out the namespace's LimitRange
    fills in, as it would for the operator's pods."""
    kind, spec = obj["kind"], obj.get("spec") or {}
    name = obj["metadata"]["name"]
    pods = []
    for i, (where, pod_ctx, container_ctx) in enumerate(pod_templates(obj)):
        pod_spec: dict[str, Any] = {}
        container: dict[str, Any] = {"name": "main", "image": "registry.invalid/e2e:1"}
        if kind in ("SparkApplication", "ScheduledSparkApplication"):
            app = spec["template"] if kind == "ScheduledSparkApplication" else spec
            role = app[where.rsplit(".", 1)[-1]]
            container["image"] = app["image"]
            pod_spec["serviceAccountName"] = role.get("serviceAccount", "default")
            pod_spec["nodeSelector"] = role.get("nodeSelector") or {}
            pod_spec["tolerations"] = role.get("tolerations") or []
            memory = role["memory"]  # as spark-submit sizes the pod: heap plus overhead
            overhead = role.get("memoryOverhead") or "384m"
            mebibytes = int(memory.rstrip("m")) + int(overhead.rstrip("m"))
            container["resources"] = {
                "requests": {"cpu": str(role["cores"]), "memory": f"{mebibytes}Mi"},
                "limits": {"cpu": role["coreLimit"], "memory": f"{mebibytes}Mi"},
            }
        elif kind == "WorkflowTemplate":  # a step's pod runs its template's container
            step = where.split("[", 1)[1].split("]", 1)[0]
            (template,) = [t for t in spec["templates"] if t["name"] == step]
            container["image"] = template["container"]["image"]
            container["resources"] = template["container"].get("resources") or {}
            pod_spec["serviceAccountName"] = spec.get("serviceAccountName", "default")
            pod_spec["nodeSelector"] = template.get("nodeSelector") or {}
            pod_spec["tolerations"] = template.get("tolerations") or []
        elif kind == "InferenceService":
            predictor = spec["predictor"]
            pod_spec["serviceAccountName"] = predictor.get("serviceAccountName", "default")
            model = predictor.get("model") or {}
            if "resources" in model:
                container["resources"] = model["resources"]
        if pod_ctx:
            pod_spec["securityContext"] = pod_ctx
        if container_ctx:
            container["securityContext"] = container_ctx
        pod_spec["containers"] = [container]
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"{name}-{i}", "namespace": obj["metadata"]["namespace"]},
                "spec": pod_spec,
                "_where": where,
            }
        )
    return pods


def test_every_pod_template_is_admitted_in_its_namespace_under_restricted(e2e: E2E) -> None:
    """Each pod template dsenv writes (Spark driver and executor from the SparkApplication
    template, the Kafka brokers and entity operator, the model server, the scheduled job, the
    scheduled Spark job and each workflow step) created server-side,
    dry run, in its namespace: Pod Security `restricted`, the quota and the limit range all
    admit it. The SparkApplication itself goes through its CRD's schema the same way."""
    e2e.up()
    template = e2e.kubectl(
        "get", "configmap", "spark-application-template", "-n", "edge", "-o", "json"
    )
    assert template.returncode == 0, template.stderr
    (app_text,) = json.loads(template.stdout)["data"].values()
    app = yaml.safe_load(app_text)
    app["metadata"].setdefault("namespace", "edge")
    created = e2e.kubectl(
        "create", "--dry-run=server", "-o", "json", "-f", "-", stdin=json.dumps(app)
    )
    assert created.returncode == 0, created.stderr
    objects = [json.loads(created.stdout)]
    for resource, name in (
        ("kafkas.kafka.strimzi.io", "edge-kafka"),
        ("kafkanodepools.kafka.strimzi.io", "dual-role"),
        ("inferenceservices.serving.kserve.io", "scorer"),
        ("scheduledsparkapplications.sparkoperator.k8s.io", "etl"),
        ("workflowtemplates.argoproj.io", "features"),
    ):
        got = e2e.kubectl("get", resource, name, "-n", "edge", "-o", "json")
        assert got.returncode == 0, got.stderr
        objects.append(json.loads(got.stdout))
    seen = []
    for obj in objects:
        for pod in _pods(obj):
            where = pod.pop("_where")
            done = e2e.kubectl("create", "--dry-run=server", "-f", "-", stdin=json.dumps(pod))
            assert done.returncode == 0, f"{where}: {done.stderr}"
            seen.append(where)
    # a scheduled job's pod is its CronJob's own pod template, as the Job controller makes it
    cronjob = e2e.kubectl("get", "cronjob", "refresh", "-n", "edge", "-o", "json")
    assert cronjob.returncode == 0, cronjob.stderr
    job_pod = json.loads(cronjob.stdout)["spec"]["jobTemplate"]["spec"]["template"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "refresh-run", "namespace": "edge"},
        "spec": job_pod["spec"],
    }
    done = e2e.kubectl("create", "--dry-run=server", "-f", "-", stdin=json.dumps(pod))
    assert done.returncode == 0, f"CronJob/refresh: {done.stderr}"
    seen.append("CronJob/refresh.jobTemplate")
    assert {w.split(".")[0] for w in seen} == {
        f"SparkApplication/{app['metadata']['name']}",
        "Kafka/edge-kafka",
        "KafkaNodePool/dual-role",
        "InferenceService/scorer",
        "ScheduledSparkApplication/etl",
        "WorkflowTemplate/features",
        "CronJob/refresh",
    }, seen
    # and the check can fail: a pod that asks for root is refused by the same admission
    root_pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "as-root", "namespace": "edge"},
        "spec": {"containers": [{"name": "main", "image": "registry.invalid/e2e:1"}]},
    }
    refused = e2e.kubectl("create", "--dry-run=server", "-f", "-", stdin=json.dumps(root_pod))
    assert refused.returncode != 0 and 'violates PodSecurity "restricted' in refused.stderr


def test_outputs_and_a_preview_without_changes(e2e: E2E) -> None:
    e2e.up()
    run = e2e.dsenv("outputs", str(e2e.profile), "--json")
    assert run.returncode == 0, output(run)
    values = json.loads(run.stdout)
    assert values["namespace"] == "edge"
    assert values["kube_context"] == CONTEXT
    assert values["kafka_bootstrap"].startswith("edge-kafka-kafka-bootstrap.edge.svc")
    assert "scorer" in json.dumps(values["serving_endpoints"])
    preview = e2e.dsenv("preview", str(e2e.profile))
    assert preview.returncode == 0, output(preview)
    assert "no changes" in preview.stdout, output(preview)
    assert "0 to add, 0 to change (0 replaced), 0 to remove" in preview.stdout, output(preview)


def test_a_profile_change_is_pending_drift(e2e: E2E) -> None:
    e2e.up()
    e2e.write_profile(partitions=12)
    try:
        drift = e2e.dsenv("drift", str(e2e.profile), "--kind", "pending")
        assert drift.returncode == 1, output(drift)
        line = next(ln for ln in drift.stdout.splitlines() if ln.strip().startswith("pending"))
        assert "KafkaTopic::kafka-topic-runs" in line and "spec.partitions" in line, drift.stdout
        # `--only` previews one capability's subtree, in the layout of `dsenv diff`
        kafka = e2e.dsenv("preview", str(e2e.profile), "--only", "kafka")
        assert kafka.returncode == 0, output(kafka)
        assert (
            "~  kubernetes:kafka.strimzi.io/v1:KafkaTopic  kafka-topic-runs  [kafka]\n"
            "      spec.partitions" in kafka.stdout
        ), kafka.stdout
        assert "0 to add, 1 to change (0 replaced), 0 to remove" in kafka.stdout, kafka.stdout
        serving = e2e.dsenv("preview", str(e2e.profile), "--only", "serving")
        assert serving.returncode == 0, output(serving)
        assert "no changes" in serving.stdout, serving.stdout
    finally:
        e2e.write_profile()
    clean = e2e.dsenv("drift", str(e2e.profile), "--kind", "pending")
    assert clean.returncode == 0, output(clean)


def test_a_change_behind_dsenvs_back_is_cloud_drift_until_refreshed(e2e: E2E) -> None:
    e2e.up()
    patched = e2e.kubectl(
        "patch", "kafkatopic", "runs", "-n", "edge", "--type=merge",
        "-p", json.dumps({"spec": {"partitions": 6}}),
    )  # fmt: skip
    assert patched.returncode == 0, patched.stderr
    other = e2e.root / "other.yaml"  # a team never deployed: its whole stack is pending
    other.write_text(e2e.profile.read_text().replace("name: edge", "name: other", 1), "utf-8")
    junit = e2e.root / "drift.xml"
    drift = e2e.dsenv(
        "drift", str(e2e.profile), str(other), "--kind", "cloud", "--kind", "pending",
        "--junit", str(junit),
    )  # fmt: skip
    assert drift.returncode == 1, output(drift)
    line = next(ln for ln in drift.stdout.splitlines() if ln.strip().startswith("cloud"))
    assert "KafkaTopic::kafka-topic-runs" in line and "spec.partitions" in line, drift.stdout
    assert "pending   create    other" in drift.stdout, drift.stdout
    suite = next(iter(JUnitXml.fromfile(str(junit))))
    cases = {c.name: c for c in suite}
    assert suite.tests == 2 and suite.failures == 2 and suite.errors == 0
    assert "spec.partitions" in cases["edge"].result[0].text
    refreshed = e2e.dsenv("refresh", str(e2e.profile), "--yes")
    assert refreshed.returncode == 0, output(refreshed)
    report = e2e.root / "drift.json"
    clean = e2e.dsenv("drift", str(e2e.profile), "--kind", "cloud", "--json", str(report))
    assert clean.returncode == 0, output(clean)
    data = json.loads(report.read_text())
    assert data["clean"] == 1 and data["stacks"][0]["findings"] == []
    # the state now says 6 partitions, the profile 3: the next `up` puts the profile back
    # (dsenv's objects carry pulumi.com/patchForce, so kubectl's field manager does not block
    # the Server-Side Apply)
    back = e2e.dsenv("up", str(e2e.profile), "--yes")
    assert back.returncode == 0, output(back)
    topic = e2e.kubectl("get", "kafkatopic", "runs", "-n", "edge", "-o", "json").stdout
    assert json.loads(topic)["spec"]["partitions"] == 3


HOLDER = """\
import sys, time
from pathlib import Path
from dsenv.live.engine import Engine
from dsenv.live.events import Recorder
from dsenv.live.programs import program_for
from dsenv.live.pulumicli import find_pulumi
from dsenv.live.settings import resolve_settings
from dsenv.profile.load import load_team
from dsenv.spec.expand import expand_profile

spec = expand_profile(load_team(sys.argv[1]))
release = Path(sys.argv[2])
real = program_for(spec)

def slow() -> None:  # holds the lock until the test has seen the second run fail
    deadline = time.monotonic() + 300
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    real()

Engine(resolve_settings(), find_pulumi()).open(spec.stack_name, slow).up(Recorder())
"""


def test_a_second_up_while_one_holds_the_lock_exits_3_naming_the_holder(e2e: E2E) -> None:
    """The holder is another real update of the same stack (dsenv's engine and program, its
    program held back until released). Then the holder's CLI is killed, as a runner killed
    mid-run would be: its lock stays, and the `pulumi cancel` command dsenv prints removes it."""
    e2e.up()
    release = e2e.root / "release-the-lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(e2e.profile), str(release)],
        env=e2e.env,
        cwd=e2e.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while not e2e.locks() and holder.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        (lock,) = e2e.locks()
        info = json.loads(lock.read_text())
        second = e2e.dsenv("up", str(e2e.profile), "--yes")
        assert second.returncode == 3, output(second)
        who = f"{info['username']}@{info['hostname']} (pid {info['pid']})"
        assert f"the stack is locked by {who}" in second.stderr, output(second)
        # a drift check takes no lock: it runs beside the update
        drift = e2e.dsenv("drift", str(e2e.profile), "--kind", "pending")
        assert drift.returncode == 0, output(drift)
        assert len(e2e.locks()) == 1
        # the holder's CLI dies (a runner killed mid-run): its lock stays behind
        os.kill(int(info["pid"]), signal.SIGKILL)
        release.touch()  # the holder's program gives up too, on its dead engine
        try:
            holder.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.communicate(timeout=60)
        assert len(e2e.locks()) == 1
        third = e2e.dsenv("up", str(e2e.profile), "--yes")
        assert third.returncode == 3, output(third)
    finally:
        release.touch()
        if holder.poll() is None:
            holder.kill()
            holder.communicate(timeout=60)
    # the fix dsenv prints, pasted as it is from another folder, removes the lock
    hint = third.stderr.split("remove the lock with `", 1)[1].split("`", 1)[0]
    assignment, *words = shlex.split(hint)
    key, value = assignment.split("=", 1)
    elsewhere = e2e.root / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    env = {k: v for k, v in e2e.env.items() if k != "DSENV_HOME"} | {key: value}
    done = subprocess.run(
        words, env=env, cwd=elsewhere, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert e2e.locks() == []
    after = e2e.dsenv("up", str(e2e.profile), "--yes")
    assert after.returncode == 0, output(after)


def test_destroy_removes_the_namespaces_and_restore_brings_back_the_state(e2e: E2E) -> None:
    e2e.up()
    before = sorted(r["urn"] for r in e2e.state())
    destroyed = e2e.dsenv("destroy", str(e2e.profile), "--yes")
    if destroyed.returncode == 3 and "protected" in destroyed.stderr:
        # the brokers are protected (they hold data): nothing was deleted, and the hint's
        # command, pasted as printed, unprotects them
        assert sorted(r["urn"] for r in e2e.state()) == before
        hint = destroyed.stderr.split("either `", 1)[1].split("`", 1)[0]
        assignment, *words = shlex.split(hint)
        key, value = assignment.split("=", 1)
        done = subprocess.run(
            words,
            env={**e2e.env, key: value},
            cwd=e2e.root,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        destroyed = e2e.dsenv("destroy", str(e2e.profile), "--yes")
    assert destroyed.returncode == 0, output(destroyed)
    assert "dsenv restore" in destroyed.stdout
    deadline = time.monotonic() + 180
    left = e2e.namespaces()
    while left and time.monotonic() < deadline:
        got = e2e.kubectl("get", "namespace", *e2e.namespaces(), "-o", "name", "--ignore-not-found")
        left = got.stdout.split()
        time.sleep(1)
    assert left == [], f"namespaces still there: {left}"
    assert [r for r in e2e.state() if r["type"].startswith("kubernetes:")] == []
    restored = e2e.dsenv("restore", str(e2e.profile), "--yes")
    assert restored.returncode == 0, output(restored)
    assert sorted(r["urn"] for r in e2e.state()) == before
    values = json.loads(e2e.dsenv("outputs", str(e2e.profile), "--json").stdout)
    assert values["namespace"] == "edge"
    # the state says the objects exist and the cluster says they do not: cloud drift
    drift = e2e.dsenv("drift", str(e2e.profile), "--kind", "cloud")
    assert drift.returncode == 1, output(drift)
    assert "delete" in drift.stdout and "Namespace::namespace-namespace" in drift.stdout
