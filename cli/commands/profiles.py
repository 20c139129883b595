"""Profile commands: validate, schema, explain, init. None of them imports Pulumi."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dsenv.errors import ExitCode, ProfileError, UsageError

ProfilePaths = Annotated[
    list[Path], typer.Argument(help="Profile files or folders (searched for *.yaml and *.yml).")
]
ProfileArg = Annotated[Path, typer.Argument(help="A profile file.", metavar="PROFILE")]


class SchemaKind(StrEnum):
    team = "team"
    org = "org"
    any = "any"


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(schema)
    app.command()(explain)
    app.command()(init)


def validate(paths: ProfilePaths) -> None:
    """Check profiles: syntax, schema, references and org constraints. Exit 2 on errors."""
    from dsenv.profile.load import find_profiles, load_profile

    files = find_profiles(paths)
    if not files:
        raise UsageError(f"no *.yaml or *.yml profiles under {', '.join(map(str, paths))}")
    failed = 0
    for file in files:
        try:
            loaded = load_profile(file)
        except ProfileError as exc:
            failed += 1
            typer.echo(exc.render(), err=True)
            typer.echo(f"FAIL {file} ({len(exc.problems)} problem{'s' * (len(exc.problems) != 1)})")
        else:
            typer.echo(f"ok   {file} ({loaded.kind} {loaded.model.name})")
    typer.echo(f"{len(files) - failed} valid, {failed} invalid, {len(files)} profiles")
    if failed:
        raise typer.Exit(int(ExitCode.BAD_INPUT))


def schema(
    kind: Annotated[SchemaKind, typer.Option(help="Which document kind.")] = SchemaKind.any,
) -> None:
    """Print the JSON Schema (2020-12) of profiles, for editors and CI."""
    from dsenv.profile.schema import json_schema

    typer.echo(json.dumps(json_schema(kind.value), indent=2))


def explain(
    profile: ProfileArg,
    key: Annotated[
        str | None, typer.Argument(help="A key path such as workspaces or tiers.gpu.max_nodes.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Show final values after inheritance, each with the file:line it came from."""
    from dsenv.profile.explain import explain as run
    from dsenv.profile.load import load_profile

    rows = run(load_profile(profile), key)
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    width = max(len(r.key) for r in rows)
    for r in rows:
        typer.echo(f"{r.key:<{width}}  {json.dumps(r.value):<30}  {r.source}")


_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def init(
    name: Annotated[str, typer.Argument(help="Team name (DNS-1123 label).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write. Default: NAME.yaml.")
    ] = None,
    extends: Annotated[
        str | None, typer.Option(help="Org profile to extend, relative to the new file.")
    ] = None,
    provider: Annotated[str, typer.Option(help="aws or kubernetes.")] = "aws",
    region: Annotated[str, typer.Option(help="AWS region (provider aws).")] = "eu-west-1",
    context: Annotated[
        str | None,
        typer.Option(help="kubeconfig context (provider kubernetes). Default: the current one."),
    ] = None,
    kubernetes_version: Annotated[str, typer.Option(help="Kubernetes version.")] = "1.34",
    python: Annotated[str, typer.Option(help="Python version of the team image.")] = "3.12",
    instance_type: Annotated[
        str, typer.Option(help="Instance type of the starter tier.")
    ] = "m7i.xlarge",
    owner: Annotated[list[str] | None, typer.Option(help="Owner e-mail; repeat for more.")] = None,
    budget: Annotated[int | None, typer.Option(help="Monthly budget in USD.")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter team profile from the template; never overwrites without --force."""
    from dsenv.profile.load import load_profile
    from dsenv.templating import render
    from dsenv.writer import Writer

    if not _NAME.match(name):
        raise UsageError(f"{name!r} is not a valid team name: lower-case letters, digits and '-'")
    if provider not in ("aws", "kubernetes"):
        raise UsageError(f"--provider must be aws or kubernetes, not {provider!r}")
    path = output or Path(f"{name}.yaml")
    text = render(
        "team.yaml.j2",
        name=name,
        filename=path.name,
        extends=extends,
        provider=provider,
        region=region,
        context=context,
        kubernetes_version=kubernetes_version,
        python=python,
        instance_type=instance_type,
        owners=owner or [],
        budget=budget,
    )
    parent = path.parent if path.parent != Path() else Path.cwd()
    # never write the new team over the org it extends
    writer = Writer(parent, force=force, protected=[parent / extends] if extends else [])
    written = writer.write(path.name, text)
    try:
        load_profile(path)
    except ProfileError as exc:
        typer.echo(f"wrote {path}, but it does not validate yet:\n{exc.render()}", err=True)
        raise typer.Exit(int(ExitCode.BAD_INPUT)) from None
    typer.echo(f"wrote {writer.display(written)}")
