"""The team's workspace image: what goes into it, and a tag that names exactly that."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

from dsenv.profile.types import is_qualified
from dsenv.spec import versions

if TYPE_CHECKING:
    from dsenv.profile.model import Team
    from dsenv.spec.names import Names


@dataclass(frozen=True)
class LanguageSpec:
    name: Literal["python", "r"]
    version: str
    packages: tuple[str, ...]


#: Target kubernetes without `target.registry`: the team image is built and loaded into the
#: nodes (`kind load docker-image`), never pulled. `localhost/` makes the reference fully
#: qualified, so it can never resolve to a Docker Hub repository, and a missing image fails at
#: once with that name (the kubelet would try the node's own port 443).
LOCAL_REGISTRY = "localhost"


def qualified(image: str, registry: str) -> str:
    """`image` under `registry` unless it names a registry of its own."""
    return image if is_qualified(image) else f"{registry.rstrip('/')}/{image}"


@dataclass(frozen=True)
class ImageSpec:
    """The team's workspace image, rendered from languages and tools."""

    repository: str  # registry repository name (aws) or local name
    tag: str  # content hash of what goes into the image
    base: str
    languages: tuple[LanguageSpec, ...]
    tools: tuple[str, ...]
    spark_version: str | None
    kafka: bool
    uid: int
    gid: int
    ci_runner: bool = False  # the GitHub Actions runner goes into the image (CI runners use it)
    spark_submit: bool = False  # Spark on the operator: the Kubernetes client that submits jobs
    # target kubernetes: where every pod pulls the image from (`target.registry`, or
    # LOCAL_REGISTRY for an image loaded into the nodes); aws: "" (the ECR repository URL is
    # known only once the stack has created it)
    registry: str = ""

    @property
    def ref(self) -> str:
        name = f"{self.registry}/{self.repository}" if self.registry else self.repository
        return f"{name}:{self.tag}"


@cache
def _image_recipe() -> str:
    recipe = resources.files("dsenv.templates").joinpath("image", "Dockerfile.j2").read_bytes()
    return hashlib.sha256(recipe).hexdigest()


def expand(team: Team, names: Names) -> ImageSpec:
    langs = []
    if team.languages.python:
        py = team.languages.python
        langs.append(LanguageSpec("python", py.version, tuple(py.packages)))
    if team.languages.r:
        r = team.languages.r
        langs.append(LanguageSpec("r", r.version, tuple(r.packages)))
    # The tag names what goes into the image: the profile's languages and tools, every pinned
    # build input, and the recipe (the Dockerfile template) itself.
    content = {
        "recipe": _image_recipe(),
        "pins": [
            versions.WORKSPACE_BASE_IMAGE,
            versions.PACKAGE_SNAPSHOT,
            versions.UV_IMAGE,
            versions.CODE_SERVER_VERSION,
            versions.JAVA_PACKAGE,
            versions.RSTUDIO_SERVER_VERSION,
            versions.DEFAULT_PYTHON,
            versions.DEFAULT_R,
            list(versions.JUPYTER_SERVER_PACKAGES),
        ],
        "languages": [[lang.name, lang.version, list(lang.packages)] for lang in langs],
        "tools": sorted(team.tools),
        "spark": team.spark.version if team.spark else None,
        "kafka": team.kafka is not None,
        "spark_submit": list(versions.SPARK_SUBMIT_PACKAGES) if _operator(team) else None,
        "runner": versions.ACTIONS_RUNNER_IMAGE if team.ci_runners else None,
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]
    return ImageSpec(
        repository=names.repository,
        tag=digest,
        base=versions.WORKSPACE_BASE_IMAGE,
        languages=tuple(langs),
        tools=tuple(sorted(team.tools)),
        spark_version=team.spark.version if team.spark else None,
        kafka=team.kafka is not None,
        spark_submit=_operator(team),
        ci_runner=team.ci_runners is not None,
        uid=versions.WORKSPACE_UID,
        gid=versions.WORKSPACE_GID,
        registry=registry_of(team),
    )


def registry_of(team: Team) -> str:
    """The registry every image dsenv runs on target kubernetes is qualified with."""
    if team.target.provider != "kubernetes":
        return ""
    return team.target.registry or LOCAL_REGISTRY


def _operator(team: Team) -> bool:
    return team.spark is not None and team.spark.engine == "operator"
