"""`dsenv doctor` on an existing cluster: the context a profile reaches, the API server's
version, and the shared operators and CRDs a `target.operators: shared` team needs.

A small HTTP API server stand-in on loopback answers what the real one would (`/version`, a
CRD by name, a namespace's Deployments) and records the credentials each request carried; the
last test runs the same checks against a real kube-apiserver when one is given (see its
docstring).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dsenv.cli.app import app
from dsenv.live.cluster import (
    ApiClient,
    ClusterError,
    cluster_checks,
    current_context,
    load_kubeconfig,
    resolve_context,
    shared_operator_needs,
)
from dsenv.profile.load import load_team
from dsenv.spec.expand import expand_profile
from dsenv.spec.model import EnvironmentSpec

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT.parent / "shared" / "upstream"

SHARED_TEAM = """\
apiVersion: dsenv/v1
kind: Team
name: lab
target: {{provider: kubernetes, operators: shared{context}}}
tiers:
  cpu: {{cpu: 1, memory: 2Gi}}
spark: {{driver_tier: cpu, executor_tier: cpu}}
kafka: {{brokers: 1, storage: 1Gi}}
ci_runners: {{provider: github, organization: lab, tier: cpu}}
serving:
  tier: cpu
  models: [{{name: m, framework: sklearn, storage_uri: "pvc://models/m/1"}}]
"""


@dataclass
class FakeApiServer:
    """What the API server holds, and the Authorization header of every request."""

    version: str = "v1.34.4"
    crds: set[str] = field(default_factory=set)
    deployments: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)
    seen_auth: list[str | None] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str) -> tuple[int, Any]:
        if path == "/version":
            return 200, {"major": "1", "minor": "34", "gitVersion": self.version}
        crd_prefix = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
        if path.startswith(crd_prefix):
            name = path[len(crd_prefix) :]
            return (200, {"metadata": {"name": name}}) if name in self.crds else (404, {})
        parts = path.split("/")
        if path.startswith("/apis/apps/v1/namespaces/") and parts[-1] == "deployments":
            items = [
                {
                    "metadata": {"name": n},
                    "spec": {"replicas": want},
                    "status": {"readyReplicas": ok},
                }
                for n, ok, want in self.deployments.get(parts[-2], [])
            ]
            return 200, {"items": items}
        return 404, {}


@pytest.fixture
def api() -> Iterator[FakeApiServer]:
    state = FakeApiServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen_auth.append(self.headers.get("Authorization"))
            code, body = state.answer(self.path)
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _kubeconfig(
    path: Path, server: str, user: dict[str, Any], *, current: str | None = "kind-kind"
) -> dict[str, str]:
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kind", "cluster": {"server": server}}],
        "users": [{"name": "me", "user": user}],
        "contexts": [
            {"name": "kind-kind", "context": {"cluster": "kind", "user": "me"}},
            {"name": "lab-prod", "context": {"cluster": "kind", "user": "me"}},
        ],
    }
    if current:
        config["current-context"] = current
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return {"KUBECONFIG": str(path)}


def _spec(tmp_path: Path, context: str | None = None) -> EnvironmentSpec:
    profile = tmp_path / "lab.yaml"
    profile.write_text(
        SHARED_TEAM.format(context=f", context: {context}" if context else ""), encoding="utf-8"
    )
    return expand_profile(load_team(profile))


def _by_name(checks: list[Any]) -> dict[str, Any]:
    return {c.name: c for c in checks}


def test_the_current_context_is_used_when_the_profile_names_none(
    tmp_path: Path, api: FakeApiServer
) -> None:
    env = _kubeconfig(tmp_path / "config", api.url, {"token": "t0k3n"})
    checks = _by_name(cluster_checks(_spec(tmp_path), env))
    assert checks["kube context"].status == "ok"
    assert checks["kube context"].detail.startswith("kind-kind (current;")
    assert checks["API server"].status == "ok"
    assert checks["API server"].detail == f"{api.url}: Kubernetes v1.34.4"
    assert api.seen_auth[0] == "Bearer t0k3n"
    assert current_context(env) == "kind-kind"


def test_the_profiles_context_wins_and_an_unknown_one_fails_with_the_known_ones(
    tmp_path: Path, api: FakeApiServer
) -> None:
    env = _kubeconfig(tmp_path / "config", api.url, {"token": "x"})
    checks = _by_name(cluster_checks(_spec(tmp_path, "lab-prod"), env))
    assert checks["kube context"].detail.startswith("lab-prod (the profile's;")
    missing = cluster_checks(_spec(tmp_path, "prod-eu"), env)
    assert [(c.name, c.status) for c in missing] == [("kube context", "fail")]
    assert "known: kind-kind, lab-prod" in missing[0].detail


def test_no_current_context_and_no_kubeconfig_are_reported_with_their_fix(tmp_path: Path) -> None:
    env = _kubeconfig(tmp_path / "config", "http://127.0.0.1:9", {}, current=None)
    with pytest.raises(ClusterError, match="no current context"):
        resolve_context(load_kubeconfig(env), None)
    (check,) = cluster_checks(None, {"KUBECONFIG": str(tmp_path / "absent")})
    assert check.status == "warn" and "no kubeconfig" in check.detail
    assert "kind create cluster" in check.fix


def test_a_version_other_than_the_profiles_is_a_warning(tmp_path: Path, api: FakeApiServer) -> None:
    api.version = "v1.31.2"
    env = _kubeconfig(tmp_path / "config", api.url, {"token": "x"})
    check = _by_name(cluster_checks(_spec(tmp_path), env))["API server"]
    assert check.status == "warn"
    assert 'target.kubernetes_version: "1.31"' in check.fix


def test_an_unreachable_api_server_fails_for_a_kubernetes_profile(tmp_path: Path) -> None:
    env = _kubeconfig(tmp_path / "config", "http://127.0.0.1:9", {"token": "x"})
    check = _by_name(cluster_checks(_spec(tmp_path), env))["API server"]
    assert check.status == "fail" and "is not reachable" in check.detail


def test_shared_operators_missing_each_fail_with_the_command_that_installs_them(
    tmp_path: Path, api: FakeApiServer
) -> None:
    env = _kubeconfig(tmp_path / "config", api.url, {"token": "x"})
    checks = _by_name(cluster_checks(_spec(tmp_path), env))
    names = {"Spark operator", "Strimzi", "KServe", "Actions Runner Controller"}
    assert {n.removeprefix("shared ") for n in checks if n.startswith("shared ")} == names
    spark = checks["shared Spark operator"]
    assert spark.status == "fail"
    assert "CRDs missing: sparkapplications.sparkoperator.k8s.io" in spark.detail
    assert spark.fix == (
        "helm install spark-operator spark-operator --repo https://kubeflow.github.io/spark-operator "
        "--version 2.5.0 --namespace spark-operator --create-namespace --set 'spark.jobNamespaces={lab}'"
    )
    arc = checks["shared Actions Runner Controller"]
    assert arc.fix.startswith(
        "helm install arc oci://ghcr.io/actions/actions-runner-controller-charts/"
        "gha-runner-scale-set-controller --version 0.14.2 --namespace arc-systems"
    )


def test_installed_and_ready_shared_operators_pass(tmp_path: Path, api: FakeApiServer) -> None:
    spec = _spec(tmp_path)
    for need in shared_operator_needs(spec):
        api.crds.update(need.crds)
        api.deployments[need.namespace] = [(f"{need.capability}-controller", 1, 1)]
    api.deployments["strimzi"] = [("strimzi-cluster-operator", 0, 1)]  # not ready yet
    env = _kubeconfig(tmp_path / "config", api.url, {"token": "x"})
    checks = _by_name(cluster_checks(spec, env))
    assert checks["shared Spark operator"].status == "ok"
    assert checks["shared KServe"].status == "ok"
    assert checks["shared Actions Runner Controller"].status == "ok"
    strimzi = checks["shared Strimzi"]
    assert strimzi.status == "warn" and "no Deployment is ready" in strimzi.detail


def test_a_team_that_installs_its_operators_needs_none(tmp_path: Path) -> None:
    profile = tmp_path / "lab.yaml"
    profile.write_text(
        SHARED_TEAM.format(context="").replace("shared", "install"), encoding="utf-8"
    )
    assert shared_operator_needs(expand_profile(load_team(profile))) == []


def test_exec_credential_plugins_sign_the_requests(tmp_path: Path, api: FakeApiServer) -> None:
    """As gke-gcloud-auth-plugin, kubelogin or `aws eks get-token` do: a program prints an
    ExecCredential whose token is sent."""
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "import json, os\n"
        "info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
        "assert info['spec']['interactive'] is False\n"
        "print(json.dumps({'apiVersion': info['apiVersion'], 'kind': 'ExecCredential',"
        " 'status': {'token': 'from-' + os.environ['WHO']}}))\n",
        encoding="utf-8",
    )
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(plugin)],
            "env": [{"name": "WHO", "value": "plugin"}],
        }
    }
    env = _kubeconfig(tmp_path / "config", api.url, user)
    config = load_kubeconfig(env)
    assert ApiClient(config, "kind-kind").server_version() == "v1.34.4"
    assert api.seen_auth == ["Bearer from-plugin"]


def test_a_failing_plugin_and_a_retired_auth_provider_say_what_to_do(tmp_path: Path) -> None:
    user = {"exec": {"command": "gke-gcloud-auth-plugin-absent", "installHint": "install it"}}
    config = load_kubeconfig(_kubeconfig(tmp_path / "a", "https://127.0.0.1:9", user))
    with pytest.raises(ClusterError) as info:
        ApiClient(config, "kind-kind").server_version()
    assert "credential plugin" in info.value.message and info.value.fix == "install it"
    legacy = {"auth-provider": {"name": "gcp"}}
    config = load_kubeconfig(_kubeconfig(tmp_path / "b", "http://127.0.0.1:9", legacy))
    with pytest.raises(ClusterError, match="retired auth-provider 'gcp'"):
        ApiClient(config, "kind-kind").server_version()


def test_kubeconfig_files_merge_as_kubectl_merges_them(tmp_path: Path) -> None:
    first = tmp_path / "one"
    _kubeconfig(first, "http://127.0.0.1:1", {"token": "a"}, current="lab-prod")
    second = tmp_path / "two"
    _kubeconfig(second, "http://127.0.0.1:2", {"token": "b"}, current="kind-kind")
    config = load_kubeconfig({"KUBECONFIG": f"{first}{os.pathsep}{second}"})
    assert config.current_context == "lab-prod"  # the first file to set it
    assert config.clusters["kind"]["server"] == "http://127.0.0.1:1"


def test_doctor_shows_the_cluster_of_a_profile(
    tmp_path: Path, api: FakeApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSENV_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DSENV_BACKEND", f"file://{tmp_path / 'state'}")
    for key, value in _kubeconfig(tmp_path / "config", api.url, {"token": "x"}).items():
        monkeypatch.setenv(key, value)
    profile = tmp_path / "lab.yaml"
    profile.write_text(SHARED_TEAM.format(context=""), encoding="utf-8")
    result = CliRunner().invoke(app, ["doctor", "--profile", str(profile)])
    lines = result.stdout.splitlines()
    assert any(line.startswith("OK   kube context: kind-kind (current;") for line in lines)
    assert f"OK   API server: {api.url}: Kubernetes v1.34.4" in lines
    assert "FAIL shared Strimzi: CRDs missing: kafkas.kafka.strimzi.io" in result.stdout
    assert "     fix: helm install strimzi oci://quay.io/strimzi-helm/strimzi-kafka-operator" in (
        result.stdout
    )
    assert result.exit_code == 3


@pytest.mark.slow
def test_against_a_real_api_server(tmp_path: Path) -> None:
    """A real kube-apiserver with client-certificate TLS: `eval "$(scripts/e2e-cluster
    start)"`, then run with DSENV_E2E_KUBECONFIG=$KUBECONFIG (kubectl on PATH). The upstream
    CRDs are applied one capability at a time and doctor follows."""
    kubeconfig = os.environ.get("DSENV_E2E_KUBECONFIG")
    kubectl = shutil.which("kubectl")
    if not kubeconfig or not kubectl:
        pytest.skip(
            "needs DSENV_E2E_KUBECONFIG (a real API server, scripts/e2e-cluster) and kubectl"
        )
    if not UPSTREAM.is_dir():
        pytest.skip(f"upstream CRDs not found at {UPSTREAM}")
    env = {"KUBECONFIG": kubeconfig}
    spec = _spec(tmp_path)
    checks = _by_name(cluster_checks(spec, env))
    assert checks["API server"].detail.endswith("Kubernetes v1.34.4"), checks["API server"]
    assert checks["shared Spark operator"].status == "fail"
    crd = UPSTREAM / "spark-operator" / "sparkoperator.k8s.io_sparkapplications.yaml"
    run = subprocess.run(
        [kubectl, "apply", "--server-side", "-f", str(crd)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    try:
        spark = _by_name(cluster_checks(spec, env))["shared Spark operator"]
        # the CRD is there now; the operator's Deployment is not
        assert spark.status == "fail"
        assert spark.detail == "no operator Deployment in namespace spark-operator"
    finally:
        subprocess.run(
            [kubectl, "delete", "-f", str(crd), "--wait=false"],
            env={**os.environ, **env},
            capture_output=True,
            check=False,
        )


def test_live_commands_name_the_current_context_of_a_profile_without_one(
    tmp_path: Path, api: FakeApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So the stack records its cluster: a later run from another current context changes
    the provider's context instead of silently acting on another cluster."""
    from dsenv.cli.commands.live import _spec as live_spec

    for key, value in _kubeconfig(tmp_path / "config", api.url, {"token": "x"}).items():
        monkeypatch.setenv(key, value)
    sandbox = ROOT / "profiles" / "sandbox.yaml"
    assert live_spec(sandbox).kube_context == "kind-kind"
    assert live_spec(sandbox, pin_context=False).kube_context is None
    genomics = ROOT / "profiles" / "genomics.yaml"
    assert live_spec(genomics).kube_context == "lab-prod"  # the profile's own wins
