"""What tests share: where the example profiles and the upstream reference data are, and
how to find the external checkers. (A module of its own: `conftest` names differ per folder.)"""

from __future__ import annotations

import os
import shutil
import sys
from functools import cache
from pathlib import Path

import pytest

from dsenv.offline.graph import ResourceGraph
from dsenv.profile.load import load_team
from dsenv.spec.expand import expand_profile
from dsenv.spec.model import EnvironmentSpec

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "profiles"
#: Upstream charts and CRDs, read in place from the shared folder beside the repository.
UPSTREAM = ROOT.parent / "shared" / "upstream"
TEAM_PROFILES = sorted(p for p in PROFILES.glob("*.yaml"))


def tool(name: str, how: str) -> str:
    """An external checker's executable: `DSENV_<NAME>`, beside this Python, or on PATH.

    Missing, the test skips with `how` to install it, except under CI (CI set), where every
    checker must run for real and a missing one fails the test.
    """
    override = os.environ.get(f"DSENV_{name.upper()}")
    beside = Path(sys.executable).parent / name
    found = override or (str(beside) if beside.is_file() else shutil.which(name))
    if found and Path(found).is_file():
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed, and CI must run it ({how})")
    pytest.skip(f"{name} is not installed: {how}")


@cache
def spec_of(name: str) -> EnvironmentSpec:
    """The expanded example profile `profiles/<name>.yaml`."""
    return expand_profile(load_team(PROFILES / f"{name}.yaml"))


@cache
def graph_of(name: str) -> ResourceGraph:
    """Its resource graph, from the real program under the SDK's mock runtime."""
    from dsenv.offline.capture import capture_spec

    return capture_spec(spec_of(name))


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """Run dsenv in this process the way its console script does (`main`: the one error
    handler included, which CliRunner bypasses): (exit code, stdout, stderr)."""
    import contextlib
    import io

    from dsenv.cli.app import app_for

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            app_for(args)(args=args, prog_name="dsenv")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


# -- the end-to-end toolchain (scripts/e2e-toolchain, scripts/e2e-cluster) --------------------

E2E_BINARIES = ("pulumi", "pulumi-resource-kubernetes", "kubectl", "kube-apiserver", "etcd")


def e2e_missing() -> str | None:
    """Why the end-to-end tests cannot run here, or None when they can."""
    bin_ = os.environ.get("DSENV_E2E_BIN")
    if not bin_:
        go = shutil.which("go")
        why = (
            "no Go toolchain on this machine to build it with"
            if go is None
            else "run `export DSENV_E2E_BIN=$(scripts/e2e-toolchain | tail -n 1)` (.ci/run does)"
        )
        return f"needs the real Pulumi CLI, Kubernetes provider and kubectl (DSENV_E2E_BIN): {why}"
    absent = [b for b in E2E_BINARIES if not (Path(bin_) / b).is_file()]
    if absent:
        return f"DSENV_E2E_BIN={bin_} lacks {', '.join(absent)} (rerun scripts/e2e-toolchain)"
    kubeconfig = os.environ.get("DSENV_E2E_KUBECONFIG")
    if not kubeconfig or not Path(kubeconfig).is_file():
        return (
            "needs a real kube-apiserver (DSENV_E2E_KUBECONFIG): `scripts/e2e-cluster start`, "
            "then DSENV_E2E_KUBECONFIG=<its dir>/kubeconfig (.ci/run does)"
        )
    if not UPSTREAM.is_dir():
        return f"needs the upstream CRDs at {UPSTREAM}"
    return None


def _first_line(*command: str, env: dict[str, str] | None = None) -> str:
    import subprocess

    try:
        run = subprocess.run(
            command, capture_output=True, text=True, timeout=30, check=False, env=env
        )
    except OSError as exc:
        return f"does not run ({exc})"
    text = (run.stdout or run.stderr).strip()
    return text.splitlines()[0] if text else f"no output (exit {run.returncode})"


def provider_version(binary: Path) -> str:
    """A provider plugin's own answer to `GetPluginInfo`, as the engine asks it: the plugin
    prints its port and serves pulumirpc.ResourceProvider (the engine address it is given
    is only dialled when it logs)."""
    import subprocess

    import grpc
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import provider_pb2_grpc

    with subprocess.Popen(
        [str(binary), "127.0.0.1:1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as plugin:
        try:
            port = (plugin.stdout.readline() if plugin.stdout else "").strip()
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                info = provider_pb2_grpc.ResourceProviderStub(channel).GetPluginInfo(
                    empty_pb2.Empty(), timeout=20
                )
            return str(info.version)
        except (grpc.RpcError, ValueError) as exc:
            return f"unknown ({exc})"
        finally:
            plugin.kill()


def e2e_versions() -> dict[str, str]:
    """What the end-to-end tests run against, asked of each binary and of the API server."""
    import json
    import subprocess

    bin_ = Path(os.environ["DSENV_E2E_BIN"])
    found = {
        "pulumi": _first_line(str(bin_ / "pulumi"), "version"),
        "etcd": _first_line(str(bin_ / "etcd"), "--version").removeprefix("etcd Version: "),
        "kube-apiserver": _first_line(str(bin_ / "kube-apiserver"), "--version").removeprefix(
            "Kubernetes "
        ),
    }
    provider = provider_version(bin_ / "pulumi-resource-kubernetes")
    found["pulumi-resource-kubernetes"] = provider
    kubeconfig = os.environ.get("DSENV_E2E_KUBECONFIG")
    if kubeconfig:
        run = subprocess.run(
            [str(bin_ / "kubectl"), "version", "-o", "json"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "KUBECONFIG": kubeconfig},
        )
        try:
            found["API server"] = json.loads(run.stdout)["serverVersion"]["gitVersion"]
        except (ValueError, KeyError):
            found["API server"] = f"not reachable ({run.stderr.strip()[:200]})"
    return found
