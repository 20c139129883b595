"""The GitHub Actions workflow that builds the team image and pushes it whenever the profile
(or an org profile it extends) changes: to the team's ECR repository (target aws), or to
`target.registry` (target kubernetes) with the registry's credentials by secret reference."""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path, PurePath

from dsenv.profile.types import registry_host
from dsenv.spec.image import LOCAL_REGISTRY
from dsenv.spec.model import EnvironmentSpec
from dsenv.templating import render

#: The repository variable holding the ARN of the role the workflow assumes through OIDC.
ROLE_VARIABLE = "DSENV_IMAGE_ROLE_ARN"
#: target kubernetes: the repository secrets holding the registry user and its token
#: (GitHub Container Registry needs neither: the workflow's GITHUB_TOKEN pushes there).
USERNAME_SECRET = "DSENV_REGISTRY_USERNAME"
PASSWORD_SECRET = "DSENV_REGISTRY_PASSWORD"


def pushes(spec: EnvironmentSpec) -> bool:
    """The team image has a registry CI can push to: ECR (aws) or `target.registry`."""
    return spec.aws is not None or spec.image.registry not in ("", LOCAL_REGISTRY)


def workflow_path(spec: EnvironmentSpec) -> str:
    return f".github/workflows/dsenv-image-{spec.stack_name}.yml"


def image_workflow(
    spec: EnvironmentSpec,
    profile_path: str | os.PathLike[str],
    watch: Sequence[str | os.PathLike[str]] = (),
    *,
    branch: str = "main",
    requirement: str | None = None,
) -> str:
    """The workflow text. `profile_path` and `watch` (the profile's extends chain) are paths
    relative to the repository root; the workflow runs when any of them changes. It installs
    `requirement` with pip: by default the dsenv release that expanded the spec, by its
    distribution name (the repository may hold nothing but profiles)."""
    from dsenv import DISTRIBUTION

    if not pushes(spec):
        raise ValueError("the image workflow needs a registry: ECR (target aws) or target.registry")
    install = shlex.quote(requirement or f"{DISTRIBUTION}=={spec.dsenv_version}")
    profile = PurePath(profile_path).as_posix()
    paths = [profile, *(PurePath(p).as_posix() for p in watch), workflow_path(spec)]
    if spec.aws is None:
        return _registry_workflow(spec, profile, list(dict.fromkeys(paths)), branch, install)
    return render(
        "ci/github-image.yml.j2",
        gh=lambda expression: f"${{{{ {expression} }}}}",
        team=spec.team,
        stack=spec.stack_name,
        dsenv_version=spec.dsenv_version,
        requirement=install,
        profile=profile,
        paths=list(dict.fromkeys(paths)),
        branch=branch,
        repository=spec.aws.registry.name,
        region=spec.aws.region,
        role_variable=ROLE_VARIABLE,
    )


def _registry_workflow(
    spec: EnvironmentSpec, profile: str, paths: list[str], branch: str, requirement: str
) -> str:
    host = registry_host(spec.image.registry)
    ghcr = host == "ghcr.io"
    return render(
        "ci/github-image-registry.yml.j2",
        gh=lambda expression: f"${{{{ {expression} }}}}",
        team=spec.team,
        stack=spec.stack_name,
        dsenv_version=spec.dsenv_version,
        requirement=requirement,
        profile=profile,
        paths=paths,
        branch=branch,
        registry=spec.image.registry,
        host=host,
        image=f"{spec.image.registry}/{spec.image.repository}",
        ghcr=ghcr,
        username="github.actor" if ghcr else f"secrets.{USERNAME_SECRET}",
        password="secrets.GITHUB_TOKEN" if ghcr else f"secrets.{PASSWORD_SECRET}",
        username_secret=USERNAME_SECRET,
        password_secret=PASSWORD_SECRET,
    )


def image_workflow_files(
    spec: EnvironmentSpec,
    profile_path: str | os.PathLike[str],
    watch: Sequence[str | os.PathLike[str]] = (),
    requirement: str | None = None,
) -> list[tuple[str, str]]:
    """(relative path, content) for `dsenv ci init`: the image workflow of a team with a
    registry CI pushes to; nothing for a kubernetes team whose image is loaded into the
    nodes (no target.registry)."""
    if not pushes(spec):
        return []
    text = image_workflow(spec, profile_path, watch, requirement=requirement)
    return [(workflow_path(spec), text)]


def image_workflows_for(
    root: str | os.PathLike[str], profiles_dir: str, requirement: str | None = None
) -> list[tuple[str, str]]:
    """(relative path, content) of the image workflow of every team profile with a registry under
    `root/profiles_dir`, with paths in the workflows relative to `root` (the repository)."""
    from dsenv.profile.load import find_profiles, load_profile
    from dsenv.spec.expand import expand_profile

    folder = os.path.join(root, profiles_dir)
    if not Path(folder).is_dir():
        return []  # no profiles yet: nothing to build
    files: list[tuple[str, str]] = []
    for path in find_profiles([folder]):
        loaded = load_profile(path)
        if loaded.kind != "Team":
            continue
        watch = [os.path.relpath(f, root) for f in loaded.files[1:]]
        files += image_workflow_files(
            expand_profile(loaded), os.path.relpath(path, root), watch, requirement
        )
    return files
