"""End to end with the real Pulumi CLI: target kubernetes, file backend. Runs wherever a
real `pulumi` CLI and a kube context exist; skips elsewhere (this test never uses the
stand-in)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import STANDIN

ROOT = Path(__file__).resolve().parents[2]


def _real_pulumi() -> str | None:
    path = shutil.which("pulumi")
    return path if path and Path(path).parent != STANDIN else None


def _kube_context() -> str | None:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None
    run = subprocess.run(
        [kubectl, "config", "current-context"], capture_output=True, text=True, check=False
    )
    return run.stdout.strip() or None


@pytest.mark.slow
@pytest.mark.skipif(_real_pulumi() is None, reason="needs a real `pulumi` CLI on PATH (none here)")
@pytest.mark.skipif(
    _kube_context() is None, reason="needs kubectl and a current kube context (none here)"
)
def test_up_outputs_destroy_on_a_real_cluster(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DSENV_HOME": str(tmp_path),
        "DSENV_BACKEND": f"file://{tmp_path / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "e2e",
    }
    profile = str(ROOT / "profiles" / "sandbox.yaml")
    for args in (
        ["up", profile, "--yes"],
        ["outputs", profile],
        ["drift", profile, "--kind", "pending"],
        ["destroy", profile, "--yes"],
    ):
        run = subprocess.run(["dsenv", *args], env=env, capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
