"""Offline commands: plan, diff, render, check, cost, graph. No credentials, no state, no
Pulumi CLI: each runs the real program under the SDK's mock runtime (`dsenv.offline`).
Pulumi is imported inside the commands only."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dsenv.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from dsenv.offline.graph import ResourceGraph

ProfileArg = Annotated[
    Path,
    typer.Argument(
        help="A team profile (or a saved `dsenv plan --format json` file).", metavar="PROFILE"
    ),
]


class PlanFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"
    markdown = "markdown"


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class CheckFormat(StrEnum):
    text = "text"
    json = "json"


class CostFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"
    svg = "svg"


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


class Basis(StrEnum):
    idle = "idle"
    peak = "peak"


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command()(diff)
    app.command()(render)
    app.command()(check)
    app.command()(cost)
    app.command()(graph)


def _emit(text: str, output: Path | None, inputs: tuple[str | Path | None, ...] = ()) -> None:
    """Print `text`, or write it to `output`: atomically, and never over one of `inputs`
    (the profile and everything it extends, a price table ...)."""
    if output is None:
        typer.echo(text, nl=False)
        return
    from dsenv.writer import Writer

    writer = Writer(
        output.parent if output.parent != Path() else Path.cwd(),
        protected=[p for p in inputs if p is not None],
    )
    typer.echo(f"wrote {writer.display(writer.write(output.name, text))}", err=True)


Output = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write to this file instead of stdout (never over an input)."
    ),
]


def plan(
    profile: ProfileArg,
    format: Annotated[
        PlanFormat, typer.Option("--format", "-f", help="Output format.")
    ] = PlanFormat.table,
    details: Annotated[
        bool,
        typer.Option(
            "--details", help="Every resource on its own line (table, markdown), counts by type."
        ),
    ] = False,
    output: Output = None,
) -> None:
    """What the profile creates: resources by capability with their names, time to first up."""
    from dsenv.offline import plan as p
    from dsenv.offline.run import offline

    env = offline(profile)
    built = p.build_plan(env.graph, env.spec)
    if format is PlanFormat.table:
        text = p.render_table(built, details=details)
    elif format is PlanFormat.markdown:
        text = p.render_markdown(built, details=details)
    else:
        text = p.render_json(built) if format is PlanFormat.json else p.render_yaml(built)
    _emit(text, output, env.files)


def diff(
    old: Annotated[
        Path, typer.Argument(help="The old profile (or plan JSON); with --against, the profile.")
    ],
    new: Annotated[Path | None, typer.Argument(help="The new profile (or plan JSON).")] = None,
    against: Annotated[
        str | None,
        typer.Option(
            help="Compare PROFILE with itself at this git revision (missing there: all new).",
            metavar="GIT_REF",
        ),
    ] = None,
    format: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="Output format.")
    ] = DiffFormat.text,
    fail_on_data_loss: Annotated[
        bool,
        typer.Option(
            "--fail-on-data-loss",
            "--fail-on-replace",
            help="Exit 1 when a stateful resource (bucket, cluster, volume, Kafka ...) would be "
            "deleted or replaced, also as a consequence of what it depends on. "
            "--fail-on-replace is the same gate.",
        ),
    ] = False,
    output: Output = None,
) -> None:
    """Resources added, removed, changed (old -> new values) and replaced, as the engine will."""
    from dsenv.offline import diff as d
    from dsenv.offline.graph import ResourceGraph
    from dsenv.offline.run import Offline, offline

    if against is not None:
        if new is not None:
            raise UsageError("give either OLD NEW or PROFILE --against GIT_REF, not both")
        empty = Offline(None, ResourceGraph(stack="", project=""))
        if d.exists_at_revision(old, against):
            with d.profile_at_revision(old, against) as previous:
                before = offline(previous)
            old_label = f"{old}@{against}"
        else:  # a team new in this change: everything is added
            before, old_label = empty, f"{old}@{against} (not there)"
        if old.exists() or before is empty:
            after, new_label = offline(old), f"{old} (working tree)"
        else:  # the change deletes the team: everything is removed
            after, new_label = empty, f"{old} (deleted)"
        inputs: tuple[str, ...] = after.files
    else:
        if new is None:
            raise UsageError("give OLD and NEW profiles, or PROFILE --against GIT_REF")
        before, after = offline(old), offline(new)
        old_label, new_label = str(old), str(new)
        inputs = (*before.files, *after.files)
    result = d.diff_graphs(before.graph, after.graph)
    if format is DiffFormat.json:
        text = json.dumps(result.to_json(), indent=2) + "\n"
    elif format is DiffFormat.markdown:
        text = d.render_markdown(result, old_label, new_label)
    else:
        text = d.render_text(result, old_label, new_label)
    _emit(text, output, inputs)
    if fail_on_data_loss and result.data_loss:
        raise typer.Exit(int(ExitCode.FINDINGS))


def render(
    profile: ProfileArg,
    out: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Folder to write into (nothing is written outside it)."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option(help="List what would be written; write nothing.")
    ] = False,
    prices: Annotated[
        Path | None, typer.Option(help="Price table overriding the bundled one.")
    ] = None,
) -> None:
    """Raw Kubernetes objects, Helm values, plan, graph, cost report and laptop files."""
    from dsenv.offline.cost import price_table
    from dsenv.offline.render import render_to
    from dsenv.offline.run import offline
    from dsenv.writer import Writer

    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {out} is not a folder: render writes a folder of files")
    table = price_table(prices)  # a bad table is refused before the program runs
    env = offline(profile)
    writer = Writer(out, dry_run=dry_run, protected=[*env.files, *([prices] if prices else [])])
    paths = render_to(writer, env.graph, env.spec, table)
    for path in paths:
        typer.echo(f"{'would write' if dry_run else 'wrote'} {out / path}")
    typer.echo(f"{len(paths)} files {'would be written' if dry_run else 'written'} under {out}")


def check(
    profile: ProfileArg,
    schemas: Annotated[
        Path | None,
        typer.Option(
            help="Folder (or file) of CRDs and chart values schemas, e.g. `kubectl get crd -o yaml` output."
        ),
    ] = None,
    format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CheckFormat.text,
    min_severity: Annotated[
        Severity, typer.Option(help="Report findings of this severity or worse.")
    ] = Severity.low,
    kubernetes_version: Annotated[
        str | None,
        typer.Option(help="Kubernetes version for core schemas (default: the profile's)."),
    ] = None,
    access: Annotated[
        str | None,
        typer.Option(
            "--access",
            metavar="USER",
            help="Print each path USER has from a notebook (workspace per tier, Spark, each "
            "topic, each model) and every link of it; exit 1 if one is broken.",
        ),
    ] = None,
) -> None:
    """Schemas (core, CRDs, chart values), security rules and usability contracts. Exit 1 on
    findings."""
    from dsenv.offline.check import check as run
    from dsenv.offline.check import (
        check_kubernetes_version,
        load_schemas,
        render_text,
        require_checkers,
    )
    from dsenv.offline.run import offline

    require_checkers()
    if kubernetes_version is not None:
        check_kubernetes_version(kubernetes_version)
    loaded_schemas = load_schemas(schemas)  # bad options are refused before the program runs
    env = offline(profile)
    version = kubernetes_version or (env.spec.kubernetes_version if env.spec else None)
    if version is None:
        raise UsageError(
            "a plan JSON file does not name its Kubernetes version; pass --kubernetes-version"
        )
    check_kubernetes_version(version)
    if access is not None:
        _print_access(env.graph, access, json_format=format is CheckFormat.json)
        return
    report = run(
        env.graph,
        kubernetes_version=version,
        schemas=loaded_schemas,
        min_severity=min_severity.value,
    )
    typer.echo(
        json.dumps(report.to_json(), indent=2)
        if format is CheckFormat.json
        else render_text(report),
        nl=format is CheckFormat.json,
    )
    if report.findings:
        raise typer.Exit(int(ExitCode.FINDINGS))


def _print_access(graph: ResourceGraph, user: str, *, json_format: bool) -> None:
    from dsenv.offline import contracts

    known = contracts.users(graph)
    if user not in known:
        raise UsageError(
            f"--access {user}: not a user of the team's hub; its users are: "
            + (", ".join(known) if known else "none (the team has no workspaces)")
        )
    paths = contracts.access(graph, user)
    if json_format:
        typer.echo(json.dumps({"user": user, "paths": [p.to_json() for p in paths]}, indent=2))
    else:
        typer.echo(contracts.render_access(user, paths), nl=False)
    if any(not p.ok for p in paths):
        raise typer.Exit(int(ExitCode.FINDINGS))


def cost(
    profile: ProfileArg,
    prices: Annotated[
        Path | None, typer.Option(help="Price table (YAML) merged over the bundled one.")
    ] = None,
    format: Annotated[
        CostFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CostFormat.table,
    fail_over_budget: Annotated[
        bool, typer.Option(help="Exit 1 when the estimate exceeds the team budget or the org cap.")
    ] = False,
    basis: Annotated[
        Basis, typer.Option(help="Which estimate --fail-over-budget compares.")
    ] = Basis.peak,
) -> None:
    """Monthly cost per capability, idle and peak, against the team budget and org cap."""
    from dsenv.offline import cost as c
    from dsenv.offline.run import offline

    table = c.price_table(prices)  # a bad table is refused before the program runs
    env = offline(profile)
    report = c.estimate(env.graph, env.spec, table)
    if format is CostFormat.json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        text = c.render_markdown(report) if format is CostFormat.markdown else c.render_text(report)
        typer.echo(text.rstrip("\n"))
    over = report.over(basis.value)
    for line in over:
        typer.echo(f"OVER BUDGET: {line}", err=True)
    if fail_over_budget and over:
        raise typer.Exit(int(ExitCode.FINDINGS))


def graph(
    profile: ProfileArg,
    format: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="Output format (svg needs Graphviz).")
    ] = GraphFormat.mermaid,
    capability: Annotated[
        list[str] | None,
        typer.Option(
            "--capability",
            "-c",
            help="Only this capability's resources, with what they depend on drawn dashed; "
            "repeat for more.",
        ),
    ] = None,
    output: Output = None,
) -> None:
    """The resource graph, clustered by capability (or one capability: --capability)."""
    from dsenv.capabilities import check_name
    from dsenv.offline import visual
    from dsenv.offline.run import offline

    chosen = [check_name(c) for c in capability or []]
    env = offline(profile)
    missing = [c for c in chosen if not any(r.capability == c for r in env.graph)]
    if missing:
        raise UsageError(
            f"{profile} has no resources of capability {', '.join(missing)}",
            hint="capabilities in it: "
            + ", ".join(sorted({r.capability for r in env.graph}, key=_capability_order)),
        )
    draw = {
        GraphFormat.mermaid: visual.mermaid,
        GraphFormat.dot: visual.dot,
        GraphFormat.svg: visual.svg,
    }[format]
    _emit(draw(env.graph, chosen or None), output, env.files)


def _capability_order(name: str) -> tuple[int, str]:
    from dsenv.capabilities import order

    return order(name)
