"""The on-premise example against a real kube-apiserver: the team's objects (rendered by
`dsenv render`) are accepted, the GPU tier's pods pass Pod Security `restricted` admission
with the admins' selector and toleration, and the namespace quota admits exactly `max_pods`
of them.

Needs a real API server: `eval "$(scripts/e2e-cluster start)"`, then run with
DSENV_E2E_KUBECONFIG=$KUBECONFIG and kubectl on PATH. There is no kubelet or scheduler there,
so pods are admitted and stay Pending, which is what the quota counts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dsenv.cli.app import app
from dsenv.offline.run import offline

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kubectl() -> Any:
    kubeconfig = os.environ.get("DSENV_E2E_KUBECONFIG")
    binary = shutil.which("kubectl")
    if not kubeconfig or not binary:
        pytest.skip(
            "needs DSENV_E2E_KUBECONFIG (a real API server, scripts/e2e-cluster) and kubectl"
        )

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, *args],
            env={**os.environ, "KUBECONFIG": kubeconfig},
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )

    return run


def _hub_pod(values: dict[str, Any], slug: str, name: str, namespace: str) -> dict[str, Any]:
    """The pod KubeSpawner starts for a profile, from the hub values dsenv writes."""
    spawner = values["hub"]["config"]["KubeSpawner"]
    single = values["singleuser"]
    override = next(p for p in single["profileList"] if p["slug"] == slug)["kubespawner_override"]
    limits = {"cpu": str(override["cpu_limit"]), "memory": str(override["mem_limit"])}
    limits.update(override.get("extra_resource_limits", {}))
    requests = {"cpu": str(override["cpu_guarantee"]), "memory": str(override["mem_guarantee"])}
    requests.update(override.get("extra_resource_guarantees", {}))
    image = single["image"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "serviceAccountName": single["serviceAccountName"],
            "securityContext": spawner["pod_security_context"],
            "nodeSelector": override["node_selector"],
            "tolerations": override.get("tolerations", []),
            "containers": [
                {
                    "name": "notebook",
                    "image": f"{image['name']}:{image['tag']}",
                    "securityContext": spawner["container_security_context"],
                    "resources": {"requests": requests, "limits": limits},
                }
            ],
        },
    }


@pytest.mark.slow
def test_gpu_tier_pods_are_admitted_and_the_quota_stops_at_max_pods(
    tmp_path: Path, kubectl: Any
) -> None:
    profile = ROOT / "profiles" / "genomics.yaml"
    env = offline(profile)
    rendered = CliRunner().invoke(app, ["render", str(profile), "-o", str(tmp_path)])
    assert rendered.exit_code == 0, rendered.output
    objects = tmp_path / "kubernetes"
    namespace = env.spec.namespace.name
    try:
        for folder in ("base", "workspaces"):
            ns_first = sorted(
                (objects / folder).glob("*.yaml"), key=lambda p: "namespace-" not in p.name
            )
            for path in ns_first:
                done = kubectl("apply", "--server-side", "-f", str(path))
                assert done.returncode == 0, done.stderr
        values = yaml.safe_load(
            (tmp_path / "helm" / "workspaces" / "jupyterhub.values.yaml").read_text()
        )
        a100 = env.spec.pool("a100")
        for i in range(a100.max_pods):
            pod = _hub_pod(values, "a100", f"jupyter-{i}", namespace)
            done = kubectl("create", "-f", "-", stdin=yaml.safe_dump(pod))
            assert done.returncode == 0, done.stderr
        created = yaml.safe_load(
            kubectl("get", "pod", "jupyter-0", "-n", namespace, "-o", "yaml").stdout
        )
        assert created["spec"]["nodeSelector"] == {
            "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"
        }
        assert {
            "key": "dedicated",
            "operator": "Equal",
            "value": "gpu",
            "effect": "NoSchedule",
        } in (created["spec"]["tolerations"])
        one_more = kubectl(
            "create",
            "-f",
            "-",
            stdin=yaml.safe_dump(_hub_pod(values, "a100", "jupyter-extra", namespace)),
        )
        assert one_more.returncode != 0
        assert "exceeded quota: team-quota" in one_more.stderr
        assert "requests.nvidia.com/gpu" in one_more.stderr
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false")
