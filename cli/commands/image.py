"""Laptop parity: `dsenv image dockerfile|devcontainer|tag|workflow` and `dsenv eject`.

None of them imports Pulumi: they render text from the expanded profile.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dsenv.errors import UsageError

if TYPE_CHECKING:
    from dsenv.profile.load import LoadedProfile
    from dsenv.spec.model import EnvironmentSpec

ProfileArg = Annotated[Path, typer.Argument(help="A team profile.", metavar="PROFILE")]
Force = Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="List what would be written; write nothing.")
]

image_app = typer.Typer(
    name="image",
    help="The team's workspace image: Dockerfile, devcontainer, tag and build workflow.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    image_app.command("dockerfile")(dockerfile)
    image_app.command("devcontainer")(devcontainer)
    image_app.command("tag")(tag)
    image_app.command("workflow")(workflow)
    app.add_typer(image_app)
    app.command()(eject)


def _expand(profile: Path) -> tuple[LoadedProfile, EnvironmentSpec]:
    from dsenv.profile.load import load_team
    from dsenv.spec.expand import expand_profile

    loaded = load_team(profile)
    return loaded, expand_profile(loaded)


def _write(
    files: list[tuple[str, str]],
    root: Path,
    *,
    force: bool,
    dry_run: bool,
    protected: tuple[str, ...] = (),
) -> None:
    from dsenv.writer import Writer

    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is not a folder")
    # A first pass that writes nothing: a refusal (file exists, path escapes, an input in
    # the way) leaves no half-written set behind.
    for relative, content in files:
        Writer(root, dry_run=True, force=force, protected=protected).write(relative, content)
    writer = Writer(root, dry_run=dry_run, force=force, protected=protected)
    for relative, content in files:
        writer.write(relative, content)
    verb = "would write" if dry_run else "wrote"
    for path in writer.written:
        typer.echo(f"{verb} {writer.display(path)}")


def dockerfile(
    profile: ProfileArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Folder for the build context (Dockerfile, requirements.in). Default: print the Dockerfile.",
        ),
    ] = None,
    force: Force = False,
    dry_run: DryRun = False,
) -> None:
    """Render the team image's Dockerfile and the requirements.in it installs."""
    from dsenv.image import dockerfile as render_dockerfile
    from dsenv.image import image_files

    loaded, spec = _expand(profile)
    if output is None:
        typer.echo(render_dockerfile(spec), nl=False)
        return
    _write(image_files(spec), output, force=force, dry_run=dry_run, protected=loaded.files)


def devcontainer(
    profile: ProfileArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write, e.g. .devcontainer/devcontainer.json. Default: print.",
        ),
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            help="Registry host of the team image (the stack's ECR URL). Default: ${localEnv:DSENV_REGISTRY}."
        ),
    ] = None,
    force: Force = False,
    dry_run: DryRun = False,
) -> None:
    """Render devcontainer.json: the team image on a laptop."""
    from dsenv.image import devcontainer as render_devcontainer

    loaded, spec = _expand(profile)
    text = render_devcontainer(spec, registry)
    if output is None:
        typer.echo(text, nl=False)
        return
    _write(
        [(output.name, text)], output.parent, force=force, dry_run=dry_run, protected=loaded.files
    )


def tag(profile: ProfileArg) -> None:
    """Print the team image's tag: the hash of everything that goes into the image."""
    _, spec = _expand(profile)
    typer.echo(spec.image.tag)


def workflow(
    profile: ProfileArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Repository root to write .github/workflows/ under. Default: print.",
        ),
    ] = None,
    force: Force = False,
    dry_run: DryRun = False,
) -> None:
    """Render the GitHub Actions workflow that builds and pushes the image (to ECR on target
    aws, to target.registry on target kubernetes).

    Run it from the repository root: the workflow watches the profile's paths as given.
    """
    from dsenv.image import image_workflow_files
    from dsenv.image.workflow import pushes

    loaded, spec = _expand(profile)
    if not pushes(spec):
        raise UsageError(
            f"{profile}: the team image has no registry to push to: it is the local "
            f"{spec.image.ref}, loaded into the nodes",
            hint="set target.registry (such as ghcr.io/acme) to build and push it from CI, "
            "or load it: kind load docker-image " + spec.image.ref,
        )
    files = image_workflow_files(
        spec, _repo_path(profile), [_repo_path(f) for f in loaded.files[1:]]
    )
    if output is None:
        typer.echo(files[0][1], nl=False)
        return
    _write(files, output, force=force, dry_run=dry_run, protected=loaded.files)


def eject(
    profile: ProfileArg,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder of the new Pulumi project.")
    ],
    force: Force = False,
    dry_run: DryRun = False,
) -> None:
    """Write a standalone Pulumi project for plain `pulumi up`.

    It runs dsenv's components on this profile's resolved spec (spec.json).
    """
    from dsenv.image import eject_files

    loaded, spec = _expand(profile)
    _write(
        eject_files(spec, profile.as_posix()),
        output,
        force=force,
        dry_run=dry_run,
        protected=loaded.files,
    )
    if not dry_run:
        typer.echo(f"next: cd {output} && pulumi stack init {spec.stack_name} && pulumi up")


def _repo_path(path: str | os.PathLike[str]) -> str:
    relative = Path(os.path.relpath(Path(path).resolve(), Path.cwd()))
    if relative.parts and relative.parts[0] == "..":
        raise UsageError(
            f"{path} is outside the current folder",
            hint="run dsenv from the repository root: the workflow watches paths relative to it",
        )
    return relative.as_posix()
