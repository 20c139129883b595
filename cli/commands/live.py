"""Live commands: up, preview, refresh, destroy, outputs, restore, doctor, drift, ci init.

All engine work is in `dsenv.live`; Pulumi is imported inside the functions only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dsenv.capabilities import NAMES as CAPABILITY_NAMES
from dsenv.capabilities import check_name
from dsenv.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from dsenv.live.engine import Engine, LiveStack, OpResult
    from dsenv.live.events import Recorder
    from dsenv.spec.model import EnvironmentSpec

ProfileArg = Annotated[Path, typer.Argument(help="A team profile.", metavar="PROFILE")]
Backend = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="State backend URL (file://, s3://, https://). Default: DSENV_BACKEND, "
        "else a local file backend in ~/.dsenv/state.",
    ),
]
Secrets = Annotated[
    str | None,
    typer.Option(
        "--secrets-provider", help="passphrase (PULUMI_CONFIG_PASSPHRASE[_FILE]) or awskms://KEY."
    ),
]


def _capability(value: str | None) -> str | None:
    """Checked while the options are parsed: a bad name stops the command before it starts."""
    return check_name(value) if value is not None else None


Only = Annotated[
    str | None,
    typer.Option(
        "--only",
        help=f"Limit to one capability: {', '.join(CAPABILITY_NAMES)}.",
        callback=_capability,
        metavar="CAPABILITY",
    ),
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask; required without a terminal.")]

ci_app = typer.Typer(help="Generate CI workflows.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    for command in (preview, up, refresh, destroy, outputs, restore, doctor, drift):
        app.command()(command)
    ci_app.command("init")(ci_init)
    app.add_typer(ci_app, name="ci")


def _engine(backend: str | None, secrets: str | None) -> Engine:
    from dsenv.live.engine import Engine
    from dsenv.live.pulumicli import find_pulumi
    from dsenv.live.settings import resolve_settings

    prompt = (lambda text: typer.prompt(text, hide_input=True)) if sys.stdin.isatty() else None
    return Engine(resolve_settings(backend, secrets, prompt=prompt), find_pulumi())


def _spec(profile: Path, *, pin_context: bool = True) -> EnvironmentSpec:
    from dsenv.live.cluster import with_current_context
    from dsenv.profile.load import load_team
    from dsenv.spec.expand import expand_profile

    spec = expand_profile(load_team(profile))
    # a profile without target.context runs on the current context, named in the stack
    return with_current_context(spec) if pin_context else spec


def _open(
    profile: Path, backend: str | None, secrets: str | None, *, runs_program: bool = True
) -> tuple[LiveStack, EnvironmentSpec]:
    """The team's stack; when the command runs the program, its provider plugins are
    installed first (an inline program would otherwise fetch them mid-preview)."""
    from dsenv.live.programs import program_for

    spec = _spec(profile)
    engine = _engine(backend, secrets)
    if runs_program:
        engine.ensure_plugins(aws=spec.aws is not None)
    return engine.open(spec.stack_name, program_for(spec), profile=str(profile)), spec


def _recorder(live: bool = True) -> Recorder:
    from rich.console import Console

    from dsenv.live.events import SYMBOLS, Recorder, Step

    console = Console(stderr=True, highlight=False)

    def echo(message: str) -> None:
        # what the engine prints on its own terminal, e.g. "^C received; cancelling."
        console.print(message, markup=False)

    def show(step: Step) -> None:
        if step.type == "pulumi:pulumi:Stack" or (step.op == "same" and not step.done):
            return
        state = "[red]failed[/]" if step.failed else ("done" if step.done else "...")
        console.print(
            f"  {SYMBOLS.get(step.op, '?'):>2} {step.op:<8} {step.type}  {step.name}  {state}"
        )

    return Recorder(listener=show if live else None, echo=echo)


def _targets(stack: LiveStack, only: str | None) -> list[str] | None:
    if not only:
        return None
    from dsenv.live.targets import capability_urns

    return capability_urns(stack.resources(), only)


def _print_changes(result: OpResult) -> None:
    """Engine steps in the layout of `dsenv diff`."""
    from dsenv.live.events import engine_lines
    from dsenv.offline.diff import render_lines

    lines, summary, warnings = engine_lines(result.changes, result.summary.get("same", 0))
    typer.echo(render_lines(f"dsenv {result.kind}", lines, summary, warnings), nl=False)


def _confirm(what: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{what} needs --yes when there is no terminal to confirm on")
    if not typer.confirm(f"{what}?"):
        raise typer.Exit(int(ExitCode.OK))


def preview(
    profile: ProfileArg,
    only: Only = None,
    backend: Backend = None,
    secrets_provider: Secrets = None,
) -> None:
    """Show what `up` would change, resource by resource, without changing anything."""
    stack, _ = _open(profile, backend, secrets_provider)
    _print_changes(stack.preview(_recorder(live=False), targets=_targets(stack, only)))


def up(
    profile: ProfileArg,
    only: Only = None,
    yes: Yes = False,
    backend: Backend = None,
    secrets_provider: Secrets = None,
) -> None:
    """Create or update the team's environment (a state snapshot is kept first)."""
    from dsenv.live.reach import preflight_up

    stack, spec = _open(profile, backend, secrets_provider)
    # on aws: exit 3 before anything changes when the cluster's API cannot be reached
    warning = preflight_up(spec, stack.outputs)
    if warning:
        typer.echo(warning, err=True)
    targets = _targets(stack, only)
    _print_changes(stack.preview(_recorder(live=False), targets=targets))
    _confirm(f"Apply these changes to {stack.name}", yes)
    result = stack.up(_recorder(), targets=targets)
    _print_changes(result)
    if result.snapshot:
        typer.echo(f"state before this update kept as snapshot {result.snapshot.id}")


def refresh(
    profile: ProfileArg,
    yes: Yes = False,
    clear_pending_creates: Annotated[
        bool, typer.Option(help="Drop pending creates of an interrupted run.")
    ] = False,
    backend: Backend = None,
    secrets_provider: Secrets = None,
) -> None:
    """Bring the state in line with the cloud (reads only; changes state, not the cloud)."""
    stack, _ = _open(profile, backend, secrets_provider)
    _confirm(f"Refresh the state of {stack.name}", yes)
    _print_changes(stack.refresh(_recorder(), clear_pending_creates=clear_pending_creates))


def destroy(
    profile: ProfileArg,
    only: Only = None,
    yes: Yes = False,
    exclude_protected: Annotated[
        bool, typer.Option(help="Destroy everything except protected resources.")
    ] = False,
    backend: Backend = None,
    secrets_provider: Secrets = None,
) -> None:
    """Delete the team's resources; stops at protected ones and says how to proceed."""
    stack, _ = _open(profile, backend, secrets_provider)
    targets = _targets(stack, only)
    _confirm(f"Destroy {only or 'every'} resource(s) of {stack.name}", yes)
    result = stack.destroy(_recorder(), targets=targets, exclude_protected=exclude_protected)
    _print_changes(result)
    if result.snapshot:
        typer.echo(
            f"state before destroy kept as snapshot {result.snapshot.id}; "
            f"`dsenv restore {profile}` brings it back"
        )


def outputs(
    profile: ProfileArg,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    backend: Backend = None,
    secrets_provider: Secrets = None,
) -> None:
    """Print the stack's outputs; secret values are always masked."""
    stack, _ = _open(profile, backend, secrets_provider, runs_program=False)
    values = stack.outputs()
    if as_json:
        typer.echo(json.dumps(values, indent=2, sort_keys=True))
        return
    for key, value in sorted(values.items()):
        typer.echo(f"{key}: {json.dumps(value)}")


def restore(
    profile: ProfileArg,
    snapshot: Annotated[
        str | None, typer.Argument(help="Snapshot id (or prefix). Default: the newest.")
    ] = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the snapshots only.")] = False,
    yes: Yes = False,
    backend: Backend = None,
    secrets_provider: Secrets = None,
) -> None:
    """Bring back a state snapshot kept before an up or destroy."""
    stack, _ = _open(profile, backend, secrets_provider, runs_program=False)
    store = stack.engine.snapshots()
    if list_only:
        for s in store.list(stack.name):
            typer.echo(f"{s.id}  {s.op:<8} {s.resources} resources")
        return
    chosen = store.get(stack.name, snapshot)
    _confirm(f"Replace the state of {stack.name} with snapshot {chosen.id}", yes)
    before = stack.restore(chosen)
    typer.echo(
        f"restored {chosen.id} ({chosen.resources} resources); previous state kept as {before.id}"
    )


def doctor(
    install: Annotated[
        bool,
        typer.Option(
            "--install", help="Install the pinned Pulumi CLI into dsenv's cache if missing."
        ),
    ] = False,
    backend: Backend = None,
    secrets_provider: Secrets = None,
    profile: Annotated[
        Path | None,
        typer.Option(
            "--profile",
            help="A team profile: check its cluster (context, API server version, and with "
            "operators: shared each operator and CRD it needs).",
        ),
    ] = None,
) -> None:
    """Check the Pulumi CLI, credentials, kube context and API server, state backend, locks and pending operations."""
    from dsenv.live.doctor import Check, run_checks
    from dsenv.live.settings import resolve_settings

    if install:
        from dsenv.live.pulumicli import install_pulumi

        cmd = install_pulumi()
        typer.echo(f"installed {cmd.command} v{cmd.version}")
    settings = resolve_settings(backend, secrets_provider, prompt=lambda _: "")
    checks: list[Check] = run_checks(
        settings, _spec(profile, pin_context=False) if profile else None
    )
    for c in checks:
        typer.echo(f"{c.status.upper():<4} {c.name}: {c.detail}")
        if c.fix and c.status != "ok":
            typer.echo(f"     fix: {c.fix}")
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(int(ExitCode.OPERATIONAL))


def drift(
    profiles: Annotated[list[Path] | None, typer.Argument(help="Team profiles to check.")] = None,
    all_dir: Annotated[
        Path | None, typer.Option("--all", help="Check every team profile under DIR.")
    ] = None,
    shard: Annotated[
        str | None, typer.Option(help="Check shard I of N (I/N), for CI matrices.")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Stacks checked at once.")] = 4,
    kind: Annotated[
        list[str] | None, typer.Option(help="pending, cloud or unmanaged; repeat. Default: all.")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", help="Only profiles of this target: aws or kubernetes (CI groups them)."
        ),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format", help="table, json, junit, markdown or github (annotations) on stdout."
        ),
    ] = "table",
    junit: Annotated[Path | None, typer.Option(help="Also write JUnit XML here.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Also write Markdown here.")] = None,
    backend: Backend = None,
    secrets_provider: Secrets = None,
) -> None:
    """Report drift (pending, cloud, unmanaged) per stack. Exit 0 clean, 1 drift, 3 not checked."""
    from dsenv.live.drift import KINDS, of_target, parse_shard, run_drift, targets_from_profiles
    from dsenv.live.drift import shard as pick
    from dsenv.live.reports import FORMATS, render
    from dsenv.writer import Writer

    if output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    kinds = tuple(kind or KINDS)
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise UsageError(f"unknown --kind {', '.join(bad)}; choose from {', '.join(KINDS)}")
    paths = [*(profiles or []), *([all_dir] if all_dir else [])]
    if not paths:
        raise UsageError("name profiles or --all DIR")
    targets = pick(of_target(targets_from_profiles(paths), target), *parse_shard(shard))
    report = run_drift(
        _engine(backend, secrets_provider),
        targets,
        concurrency=concurrency,
        kinds=kinds,  # type: ignore[arg-type]  # checked against KINDS above
    )
    for path, fmt in ((junit, "junit"), (json_path, "json"), (markdown, "markdown")):
        if path:
            Writer(path.parent).write(path.name, render(report, fmt))
    typer.echo(render(report, output_format))
    raise typer.Exit(int(report.exit_code))


def ci_init(
    backend: Annotated[
        str | None,
        typer.Option(help="Shared state backend the workflow reads (s3://BUCKET[/PREFIX], ...)."),
    ] = None,
    provider: Annotated[str, typer.Option(help="github or gitlab.")] = "github",
    directory: Annotated[
        Path, typer.Option("--dir", help="Repository root to write into.")
    ] = Path(),
    profiles_dir: Annotated[
        str, typer.Option(help="Folder of team profiles, relative to the root.")
    ] = "profiles",
    shards: Annotated[int, typer.Option(help="Parallel shards of the AWS drift matrix.")] = 4,
    schedule: Annotated[str, typer.Option(help="Cron schedule, five fields (UTC).")] = "17 3 * * *",
    aws_role_arn: Annotated[
        str | None,
        typer.Option(help="IAM role the AWS drift job assumes by OIDC (required with AWS teams)."),
    ] = None,
    aws_region: Annotated[
        str | None,
        typer.Option(help="Region for the AWS credentials. Default: the AWS teams' one region."),
    ] = None,
    kubeconfig_secret: Annotated[
        str | None,
        typer.Option(
            help="CI secret holding a kubeconfig: adds a job for the teams on existing clusters "
            "(without it they are left out)."
        ),
    ] = None,
    dsenv_requirement: Annotated[
        str | None,
        typer.Option(
            help="What pip installs in the jobs. Default: this release, dsenv-cli==VERSION."
        ),
    ] = None,
    images: Annotated[
        bool,
        typer.Option(
            help="Also write, per aws team, the workflow that builds and pushes its image."
        ),
    ] = True,
    force: Annotated[bool, typer.Option(help="Overwrite existing workflow files.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Show what would be written.")] = False,
) -> None:
    """Write the nightly drift workflow (schedule, shard matrix, OIDC, pinned Pulumi CLI and
    dsenv) and the team image workflows (github)."""
    from dsenv.live.ci import (
        DriftWorkflow,
        default_region,
        default_requirement,
        drift_workflow,
        profiles_by_target,
        write_workflows,
    )
    from dsenv.writer import Writer

    drift_workflow(provider)  # a bad provider is refused before anything is read
    if not backend:
        raise UsageError(
            "--backend is required: the state backend the stacks were deployed to",
            hint="e.g. --backend s3://BUCKET/dsenv (the one DSENV_BACKEND names for `dsenv up`)",
        )
    profiles = profiles_by_target(directory, profiles_dir)
    workflow = DriftWorkflow(
        backend=backend,
        profiles=profiles,
        profiles_dir=profiles_dir,
        schedule=schedule,
        shards=shards,
        aws_role_arn=aws_role_arn,
        aws_region=aws_region or default_region(profiles),
        kubeconfig_secret=kubeconfig_secret,
        dsenv_requirement=dsenv_requirement or default_requirement(),
    )
    writer = Writer(directory, dry_run=dry_run, force=force)
    paths = write_workflows(writer, [drift_workflow(provider)], **workflow.context())
    if images and provider == "github":
        from dsenv.image.workflow import image_workflows_for

        paths += [
            writer.write(out, text)
            for out, text in image_workflows_for(
                directory, profiles_dir, workflow.dsenv_requirement
            )
        ]
    for path in paths:
        typer.echo(f"{'would write' if dry_run else 'wrote'} {writer.display(path)}")
    if profiles.kubernetes and not kubeconfig_secret:
        typer.echo(
            f"left out of the drift workflow (existing clusters, no --kubeconfig-secret): "
            f"{', '.join(profiles.kubernetes)}",
            err=True,
        )
