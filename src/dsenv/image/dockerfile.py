"""The team's workspace image: a Dockerfile and the requirements.in it installs.

Pure functions of the EnvironmentSpec, so `dsenv render`, `dsenv image` and the image
workflow all produce the same bytes for the same profile.
"""

from __future__ import annotations

import re

from dsenv.errors import UsageError
from dsenv.spec import versions
from dsenv.spec.model import EnvironmentSpec, LanguageSpec
from dsenv.templating import render

#: Where the team's Python env, its lock and uv's managed Python live in the image.
PREFIX = "/opt/dsenv"

# A requirement as a user writes it: a name, extras, a version specifier or a marker.
# Anything that starts with "-" (pip options such as --index-url) or spans lines is refused.
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?[^\n\r\"'`$\\]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
_R_PACKAGE = re.compile(r"^([A-Za-z][A-Za-z0-9.]*)\s*((?:==|>=|<=|>|<)\s*[0-9][0-9.-]*)?$")


def python_version(spec: EnvironmentSpec) -> str:
    lang = _language(spec, "python")
    return lang.version if lang else versions.DEFAULT_PYTHON


def r_version(spec: EnvironmentSpec) -> str | None:
    lang = _language(spec, "r")
    if lang:
        return lang.version
    return versions.DEFAULT_R if "rstudio" in spec.image.tools else None


def requirements_in(spec: EnvironmentSpec) -> str:
    """The Python requirements of the team env, grouped by why each is there."""
    lang = _language(spec, "python")
    team_packages = list(lang.packages) if lang else []
    for package in team_packages:
        if not _REQUIREMENT.match(package):
            raise UsageError(
                f"languages.python.packages: {package!r} is not a requirement dsenv can install",
                hint="write a package name with an optional version, such as 'pandas>=2.2'",
            )
    named = {_normalise(p) for p in team_packages}
    tools = set(spec.image.tools)
    groups: list[tuple[str, list[str]]] = [
        (
            "JupyterLab, the kernel, and jupyterhub-singleuser that the hub starts",
            list(versions.JUPYTER_SERVER_PACKAGES),
        ),
    ]
    if "vscode" in tools:
        groups.append(
            ("code-server in the JupyterLab launcher (tool vscode)", ["jupyter-vscode-proxy"])
        )
    if "rstudio" in tools:
        groups.append(
            ("RStudio in the JupyterLab launcher (tool rstudio)", ["jupyter-rsession-proxy"])
        )
    if "mlflow" in tools and not named & {"mlflow", "mlflow-skinny"}:
        groups.append(("MLflow client (tool mlflow)", ["mlflow-skinny"]))
    if spec.image.spark_version:
        groups.append(
            (
                f"Spark client matching the team's Spark {spec.image.spark_version}",
                [f"pyspark=={spec.image.spark_version}"],
            )
        )
    if spec.image.spark_submit and "kubernetes" not in named:
        groups.append(
            (
                "Kubernetes client: submits the SparkApplication template from a notebook",
                list(versions.SPARK_SUBMIT_PACKAGES),
            )
        )
    if spec.image.kafka and "confluent-kafka" not in named:
        groups.append(("Kafka client", ["confluent-kafka"]))
    if team_packages:
        groups.append(("The team's packages (languages.python.packages)", team_packages))
    lines = [
        f"# Python packages of team {spec.team}'s workspace image, rendered by dsenv {spec.dsenv_version}.",
        f"# Resolved in the image build against the release snapshot {versions.PACKAGE_SNAPSHOT};",
        f"# the resulting lock is {PREFIX}/requirements.lock in the image.",
    ]
    for why, packages in groups:
        lines += ["", f"# {why}", *packages]
    return "\n".join(lines) + "\n"


def dockerfile(spec: EnvironmentSpec) -> str:
    """The team image's Dockerfile; it expects `requirements_in(spec)` beside it."""
    image = spec.image
    tools = set(image.tools)
    r = r_version(spec)
    apt = []
    if image.spark_version:
        apt.append(versions.JAVA_PACKAGE)
    return render(
        "image/Dockerfile.j2",
        team=spec.team,
        dsenv_version=spec.dsenv_version,
        repository=image.repository,
        tag=image.tag,
        base=image.base,
        uid=image.uid,
        gid=image.gid,
        prefix=PREFIX,
        apt_packages=apt,
        code_server="vscode" in tools,
        code_server_version=versions.CODE_SERVER_VERSION,
        rstudio="rstudio" in tools,
        rstudio_version=versions.RSTUDIO_SERVER_VERSION,
        uv_image=versions.UV_IMAGE,
        snapshot=versions.PACKAGE_SNAPSHOT,
        python_version=python_version(spec),
        spark_version=image.spark_version,
        r_version=r,
        conda_packages=_conda_packages(spec, r) if r else [],
        actions_runner=versions.ACTIONS_RUNNER_IMAGE if image.ci_runner else None,
    )


def image_files(spec: EnvironmentSpec) -> list[tuple[str, str]]:
    """The build context: (relative path, content) of every file the Dockerfile needs."""
    return [("Dockerfile", dockerfile(spec)), ("requirements.in", requirements_in(spec))]


def _conda_packages(spec: EnvironmentSpec, r: str) -> list[str]:
    lang = _language(spec, "r")
    packages = [f"'r-base={r}'", "r-irkernel"]
    for package in lang.packages if lang else ():
        match = _R_PACKAGE.match(package.strip())
        if not match:
            raise UsageError(
                f"languages.r.packages: {package!r} is not a CRAN package name dsenv can install",
                hint="write a name with an optional version, such as 'dplyr>=1.1'",
            )
        name, constraint = match.groups()
        conda = f"r-{name.lower().replace('.', '-')}{(constraint or '').replace(' ', '')}"
        packages.append(f"'{conda}'")
    return packages


def _language(spec: EnvironmentSpec, name: str) -> LanguageSpec | None:
    return next((lang for lang in spec.image.languages if lang.name == name), None)


def _normalise(requirement: str) -> str:
    match = _NAME.match(requirement)
    return re.sub(r"[-_.]+", "-", match.group(0)).lower() if match else requirement
