"""checkov over every raw Kubernetes object dsenv writes, for every example profile.

checkov does not know custom resources, so the test writes only core objects and asserts
how many checkov scanned: a run that silently skipped files would otherwise pass."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from testkit import tool

PROFILE_NAMES = sorted(
    p.stem for p in (Path(__file__).resolve().parents[2] / "profiles").glob("*.yaml")
)


def _checkov() -> str:
    # checkov cannot share pulumi's environment (its `packaging<24` pin), so it usually lives
    # in an environment of its own that DSENV_CHECKOV points at (.ci/run builds one).
    return tool(
        "checkov",
        "pip install -r requirements/checkov.txt in its own environment, then set DSENV_CHECKOV",
    )


@pytest.fixture(scope="module")
def scan(kit: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], int]:
    checkov = _checkov()
    folder = tmp_path_factory.mktemp("manifests")
    written = 0
    for profile in PROFILE_NAMES:
        for i, obj in enumerate(kit.core_objects(kit.in_cluster_graph(profile))):
            (folder / f"{profile}-{i:03d}-{obj['kind'].lower()}.yaml").write_text(
                yaml.safe_dump(obj)
            )
            written += 1
    result = subprocess.run(
        [
            checkov,
            "-d",
            str(folder),
            "--framework",
            "kubernetes",
            "-o",
            "json",
            "--quiet",
            "--compact",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if not result.stdout.strip():
        pytest.fail(f"checkov printed nothing (exit {result.returncode}): {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    if isinstance(report, list):
        report = next(r for r in report if r.get("check_type") == "kubernetes")
    return report, written


@pytest.mark.slow
def test_checkov_finds_no_failed_kubernetes_check(scan: tuple[dict[str, Any], int]) -> None:
    report, _ = scan
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for c in report.get("results", {}).get("failed_checks", [])
        if c["check_id"].startswith("CKV_K8S_")
    ]
    assert failed == []


@pytest.mark.slow
def test_checkov_scanned_every_object_written(scan: tuple[dict[str, Any], int]) -> None:
    report, written = scan
    assert written > 30
    assert report["summary"]["resource_count"] == written
    assert report["summary"]["passed"] > 0
