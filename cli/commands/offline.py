"""Offline commands: plan, diff, render, check, cost, graph. No credentials, no state, no
Pulumi CLI: each runs the real program under the SDK's mock runtime (`dsenv.offline`).
Pulumi is imported inside the commands only."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dsenv.errors import ExitCode, UsageError

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


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    from dsenv.writer import Writer

    writer = Writer(output.parent if output.parent != Path() else Path.cwd())
    typer.echo(f"wrote {writer.display(writer.write(output.name, text))}", err=True)


Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
]


def plan(
    profile: ProfileArg,
    format: Annotated[
        PlanFormat, typer.Option("--format", "-f", help="Output format.")
    ] = PlanFormat.table,
    output: Output = None,
) -> None:
    """What the profile creates: resources by capability, counts by type, time to first up."""
    from dsenv.offline import plan as p
    from dsenv.offline.run import offline

    env = offline(profile)
    built = p.build_plan(env.graph, env.spec)
    render = {
        PlanFormat.table: p.render_table,
        PlanFormat.json: p.render_json,
        PlanFormat.yaml: p.render_yaml,
        PlanFormat.markdown: p.render_markdown,
    }[format]
    _emit(render(built), output)


def diff(
    old: Annotated[
        Path, typer.Argument(help="The old profile (or plan JSON); with --against, the profile.")
    ],
    new: Annotated[Path | None, typer.Argument(help="The new profile (or plan JSON).")] = None,
    against: Annotated[
        str | None,
        typer.Option(help="Compare PROFILE with itself at this git revision.", metavar="GIT_REF"),
    ] = None,
    format: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="Output format.")
    ] = DiffFormat.text,
    fail_on_replace: Annotated[
        bool, typer.Option(help="Exit 1 when a stateful resource would be replaced.")
    ] = False,
    output: Output = None,
) -> None:
    """Resources added, removed and changed (with property paths) between two profiles."""
    from dsenv.offline import diff as d
    from dsenv.offline.run import offline

    if against is not None:
        if new is not None:
            raise UsageError("give either OLD NEW or PROFILE --against GIT_REF, not both")
        with d.profile_at_revision(old, against) as previous:
            before = offline(previous).graph
        after, labels = offline(old).graph, (f"{old}@{against}", f"{old} (working tree)")
    else:
        if new is None:
            raise UsageError("give OLD and NEW profiles, or PROFILE --against GIT_REF")
        before, after, labels = offline(old).graph, offline(new).graph, (str(old), str(new))
    result = d.diff_graphs(before, after)
    if format is DiffFormat.json:
        text = json.dumps(result.to_json(), indent=2) + "\n"
    elif format is DiffFormat.markdown:
        text = d.render_markdown(result, *labels)
    else:
        text = d.render_text(result, *labels)
    _emit(text, output)
    if fail_on_replace and result.stateful_replacements:
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

    env = offline(profile)
    writer = Writer(out, dry_run=dry_run)
    paths = render_to(writer, env.graph, env.spec, price_table(prices))
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
) -> None:
    """Schemas (core, CRDs, chart values) and security rules. Exit 1 on findings."""
    from dsenv.offline.check import check as run
    from dsenv.offline.check import load_schemas, render_text
    from dsenv.offline.run import offline

    env = offline(profile)
    version = kubernetes_version or (env.spec.kubernetes_version if env.spec else None)
    if version is None:
        raise UsageError(
            "a plan JSON file does not name its Kubernetes version; pass --kubernetes-version"
        )
    report = run(
        env.graph,
        kubernetes_version=version,
        schemas=load_schemas(schemas),
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

    env = offline(profile)
    report = c.estimate(env.graph, env.spec, c.price_table(prices))
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
    output: Output = None,
) -> None:
    """The resource graph, clustered by capability."""
    from dsenv.offline import visual
    from dsenv.offline.run import offline

    env = offline(profile)
    _emit(
        {
            GraphFormat.mermaid: visual.mermaid,
            GraphFormat.dot: visual.dot,
            GraphFormat.svg: visual.svg,
        }[format](env.graph),
        output,
    )
