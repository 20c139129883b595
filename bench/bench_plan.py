"""Benchmark `dsenv plan` on every example profile.

    python bench/bench_plan.py [--runs N] [--write] [--emit DIR]

For each profile: the median wall time and peak memory (max RSS) of the whole command,
`dsenv plan PROFILE --format json`, each run in a fresh process (imports included); and,
in-process, the ratio of capturing dsenv's program to capturing a flat hand-written Pulumi
program that creates the same resources under the same mocks. That program is the captured
graph transcribed into Python source, one statement per resource through the SDK's typed
classes (`aws.iam.Role(...)`, `k8s.core.v1.Namespace(...)`, ...); `--emit DIR` writes it to
DIR/<profile>.py for reading. A second reference, the floor, registers the same resources
with bare `pulumi.CustomResource(type, name, props, opts)`. With `--write` the results
replace the "Plan benchmark" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import keyword
import linecache
import os
import platform
import pprint
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dsenv.offline.graph import Resource, ResourceGraph

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
BEGIN, END = "<!-- bench_plan:begin -->", "<!-- bench_plan:end -->"


def run_cli(profile: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of one `dsenv plan` in a fresh process.
    CPU time (user + system) is the steadier figure on a shared machine."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from dsenv.cli.app import main; main()",
            "plan",
            str(profile),
            "--format",
            "json",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(
            f"dsenv plan {profile} failed: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux: KiB


# --- The flat hand-written program -------------------------------------------------------


ARG_COLUMN = 8  # where a call's arguments start in the flat program: inside `def program()`


def flat_program_source(graph: ResourceGraph) -> str:
    """`graph` transcribed into the source of a flat, hand-written-style Pulumi program.

    One statement per resource, parents, providers and dependencies first, through the
    SDK's typed classes with snake_case keyword arguments and literal values. Components
    become plain `pulumi.ComponentResource`s; custom resources whose kind the Kubernetes SDK
    has no class for go through `k8s.apiextensions.CustomResource`.
    """
    order = _topological(graph)
    var = {r.urn: f"r{i}" for i, r in enumerate(order, 1)}
    used = {u for r in order for u in (r.parent, *r.dependencies) if u} | {
        _provider_urn(r.provider) for r in order if r.provider
    }
    body = []
    for r in order:
        options = []
        if r.parent:
            options.append(f"parent={var[r.parent]}")
        if r.provider:
            options.append(f"provider={var[_provider_urn(r.provider)]}")
        deps = [var[d] for d in r.dependencies if d in var]
        if deps:
            options.append(f"depends_on=[{', '.join(deps)}]")
        options.append(f"protect={r.protect}")
        if r.delete_before_replace:
            options.append("delete_before_replace=True")
        if r.ignore_changes:
            options.append(f"ignore_changes={list(r.ignore_changes)!r}")
        opts = f"pulumi.ResourceOptions({', '.join(options)})"
        if r.custom:
            call, args = _typed_call(r)
        else:
            call, args = "pulumi.ComponentResource", [repr(r.type), repr(r.name), "None"]
        args.append(f"opts={opts}")
        indent = " " * ARG_COLUMN
        target = f"{var[r.urn]} = " if r.urn in used else ""
        body.append(f"    {target}{call}(\n" + "".join(f"{indent}{a},\n" for a in args) + "    )")
    return (
        f'"""Flat transcription of dsenv\'s program for stack {graph.stack!r}: '
        f'{len(order)} resources.\n\nWritten by bench/bench_plan.py; every input is a literal."""\n\n'
        "import pulumi\n"
        "import pulumi_aws as aws\n"
        "import pulumi_kubernetes as k8s\n\n\n"
        "def program() -> None:\n" + "\n".join(body) + "\n"
    )


def _typed_call(r: Resource) -> tuple[str, list[str]]:
    """(class expression, argument source texts) for custom resource `r`."""
    expression, cls = _sdk_class(r.type)
    inputs = dict(r.inputs)
    if r.type.startswith("pulumi:providers:"):
        # a provider's recorded inputs are JSON-encoded strings for non-string values
        inputs = {k: _json_decoded(v) for k, v in inputs.items()}
    if cls is None:  # a custom resource of a CRD: apiVersion, kind, metadata, spec
        extra = set(inputs) - {"apiVersion", "kind", "metadata", "spec"}
        if extra:
            raise SystemExit(f"{r.urn}: no typed argument for {sorted(extra)}")
        keywords = {
            "api_version": inputs.pop("apiVersion"),
            "kind": inputs.pop("kind"),
            **inputs,
        }
    else:
        if r.type.startswith("kubernetes:") and not r.type.startswith("kubernetes:helm.sh/"):
            inputs.pop("apiVersion", None)  # the typed class sets both itself
            inputs.pop("kind", None)
        names = _python_names(cls)
        keywords = {names.get(k) or _snake(k): v for k, v in inputs.items()}
    args = [repr(r.name)]
    odd = {}  # names that cannot be keyword arguments
    for name, value in keywords.items():
        if name.isidentifier() and not keyword.iskeyword(name):
            args.append(f"{name}={_literal(value, ARG_COLUMN + len(name) + 1)}")
        else:
            odd[name] = value
    if odd:
        args.append(f"**{_literal(odd, ARG_COLUMN + 2)}")
    return expression, args


def _sdk_class(token: str) -> tuple[str, Any]:
    """The source expression and class for a type token; (CRD class, None) when the SDK
    has no typed class for it."""
    pkg, module, name = token.split(":")
    if pkg == "pulumi" and module == "providers":
        alias = {"aws": "aws", "kubernetes": "k8s"}[name]
        return f"{alias}.Provider", importlib.import_module(f"pulumi_{name}").Provider
    if pkg == "aws":
        mod = module.split("/")[0]
        path = "" if mod == "index" else f".{mod}"
        cls = getattr(importlib.import_module(f"pulumi_aws{path}"), name)
        return f"aws{path}.{name}", cls
    if pkg == "kubernetes":
        group, _, version = module.rpartition("/")
        if group in {"core", "helm.sh"} or group.endswith(".k8s.io") or "." not in group:
            path = f"{group.split('.')[0]}.{version}"
            try:
                cls = getattr(importlib.import_module(f"pulumi_kubernetes.{path}"), name)
                return f"k8s.{path}.{name}", cls
            except (ImportError, AttributeError):
                pass
        return "k8s.apiextensions.CustomResource", None
    raise SystemExit(f"no SDK class for {token}")


def _python_names(cls: Any) -> dict[str, str]:
    """Pulumi input name -> Python keyword, from the SDK's `<Class>Args` metadata."""
    from pulumi import _types

    args = getattr(sys.modules[cls.__module__], f"{cls.__name__}Args", None)
    if args is None:
        return {}
    return {v: k for k, v in _types.input_type_py_to_pulumi_names(args).items()}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _json_decoded(value: Any) -> Any:
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if not isinstance(decoded, str):
            return decoded
    return value


class _Secret:
    """A masked secret input, written back as a secret Output."""

    def __repr__(self) -> str:
        from dsenv.offline.graph import SECRET_MASK

        return f"pulumi.Output.secret({SECRET_MASK!r})"


def _literal(value: Any, column: int) -> str:
    """`value` as Python source, its continuation lines aligned for a start at `column`."""
    from dsenv.offline.graph import SECRET_MASK

    def unmask(v: Any) -> Any:
        if v == SECRET_MASK:
            return _Secret()
        if isinstance(v, dict):
            return {k: unmask(x) for k, x in v.items()}
        if isinstance(v, list):
            return [unmask(x) for x in v]
        return v

    text = pprint.pformat(unmask(value), width=max(88 - column, 40), sort_dicts=False)
    return text.replace("\n", "\n" + " " * column)


def _provider_urn(reference: str) -> str:
    return reference.rsplit("::", 1)[0]  # "urn::id"


def _topological(graph: ResourceGraph) -> list[Resource]:
    by_urn, done, order = graph.by_urn(), set(), []

    def visit(urn: str) -> None:
        if urn in done or urn not in by_urn:
            return
        done.add(urn)
        r = by_urn[urn]
        if r.parent:
            visit(r.parent)
        if r.provider:
            visit(_provider_urn(r.provider))
        for d in r.dependencies:
            visit(d)
        order.append(r)

    for urn in by_urn:
        visit(urn)
    return order


def flat_program(source: str, filename: str) -> Callable[[], None]:
    """Compile the flat program's source; `filename` is where tracebacks say it lives."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)  # our own generated source
    program: Callable[[], None] = namespace["program"]
    return program


def bare_registration(graph: ResourceGraph) -> Callable[[], None]:
    """The floor: `graph`'s resources registered with bare `pulumi.CustomResource`."""
    import pulumi

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for r in _topological(graph):
            parent = made.get(r.parent) if r.parent else None
            deps = [made[d] for d in r.dependencies if d in made]
            opts = pulumi.ResourceOptions(parent=parent, depends_on=deps, protect=r.protect)
            if r.custom:
                made[r.urn] = pulumi.CustomResource(r.type, r.name, dict(r.inputs), opts)
            else:
                made[r.urn] = pulumi.ComponentResource(r.type, r.name, None, opts)

    return program


def check_same(ours: ResourceGraph, theirs: ResourceGraph, label: str, fields: list[str]) -> None:
    """Fail unless both graphs hold the same URNs with equal `fields`."""
    a, b = ours.by_urn(), theirs.by_urn()
    problems = [f"only in dsenv's: {u}" for u in sorted(a.keys() - b.keys())]
    problems += [f"only in the {label}: {u}" for u in sorted(b.keys() - a.keys())]
    for urn in sorted(a.keys() & b.keys()):
        for f in fields:
            if getattr(a[urn], f) != getattr(b[urn], f):
                problems.append(
                    f"{urn} {f}:\n  dsenv: {getattr(a[urn], f)!r}\n  {label}: {getattr(b[urn], f)!r}"
                )
    if problems:
        raise SystemExit(
            f"the {label} does not register what dsenv's program does "
            f"({len(problems)} differences):\n" + "\n".join(problems[:10])
        )


FIELDS = ["type", "custom", "parent", "inputs"]
FLAT_FIELDS = [
    *FIELDS,
    "dependencies",
    "provider",
    "protect",
    "delete_before_replace",
    "ignore_changes",
]


def ratio(profile: Path, runs: int, emit: Path | None) -> tuple[float, float, float, int]:
    """Median seconds of capturing dsenv's program, the flat program and the bare
    registration (interleaved), and the number of custom resources."""
    from dsenv.offline.capture import capture, capture_spec
    from dsenv.offline.run import spec_for

    spec = spec_for(profile)
    graph = capture_spec(spec)
    source = flat_program_source(graph)
    where = (emit or ROOT / "bench" / "flat").resolve() / f"{profile.stem}.py"
    if emit:
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_text(source, encoding="utf-8")
    flat = flat_program(source, str(where))
    bare = bare_registration(graph)
    region = spec.aws.region if spec.aws else "us-east-1"
    stack = spec.stack_name
    # these first captures also warm up the SDK modules the programs import lazily
    check_same(graph, capture(flat, stack=stack, region=region), "flat program", FLAT_FIELDS)
    check_same(graph, capture(bare, stack=stack, region=region), "bare registration", FIELDS)
    runners: list[Callable[[], object]] = [
        lambda: capture_spec(spec),
        lambda: capture(flat, stack=stack, region=region),
        lambda: capture(bare, stack=stack, region=region),
    ]
    times: list[list[float]] = [[] for _ in runners]
    for _ in range(runs):  # interleaved, so drift on a shared machine hits all alike
        for spent, run in zip(times, runners, strict=True):
            gc.collect()  # no capture pays for collecting the garbage of the one before
            t = time.perf_counter()
            run()
            spent.append(time.perf_counter() - t)
    ours, theirs, floor = (statistics.median(t) for t in times)
    return ours, theirs, floor, sum(r.custom for r in graph)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--write", action="store_true", help="write the results into bench/README.md"
    )
    parser.add_argument(
        "--emit", type=Path, metavar="DIR", help="write each flat program to DIR/<profile>.py"
    )
    args = parser.parse_args()
    profiles = sorted((ROOT / "profiles").glob("*.yaml"))
    # Every process first: a child started (vfork + exec) from this process inherits its
    # peak RSS, so the command's peak memory is only its own while this one is still small.
    clis = {profile: [run_cli(profile) for _ in range(args.runs)] for profile in profiles}
    rows = []
    for profile, cli in clis.items():
        ours, flat, floor, count = ratio(profile, args.runs, args.emit)
        wall = statistics.median(t for t, _, _ in cli)
        cpu = statistics.median(c for _, c, _ in cli)
        rss = max(m for _, _, m in cli)
        name = profile.relative_to(ROOT).as_posix()
        rows.append((name, count, wall, cpu, rss, ours, flat, floor))
        print(
            f"{name}: {count} resources, {wall:.2f} s wall, {cpu:.2f} s CPU, {rss:.0f} MiB, "
            f"capture {ours:.3f} s vs flat program {flat:.3f} s = {ours / flat:.2f}x "
            f"(bare registration {floor:.3f} s = {ours / floor:.2f}x)",
            flush=True,
        )
    table = [
        f"Measured with `python bench/bench_plan.py --runs {args.runs} --write` on "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs "
        f"({time.strftime('%Y-%m-%d')}), load average {os.getloadavg()[0]:.1f} at the end "
        "(other work was running; wall times grow with load, CPU times much less). "
        "Targets for fraud.yaml: <= 3 s, <= 300 MB, ratio <= 1.2 (against the flat program).",
        "",
        "| profile | resources | `dsenv plan` wall (median) | CPU (median) | peak RSS "
        "| capture: dsenv program | capture: flat program | ratio "
        "| floor: bare registration | dsenv / floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {p} | {n} | {t:.2f} s | {c:.2f} s | {m:.0f} MiB | {o:.3f} s | {f:.3f} s "
            f"| {o / f:.2f} | {b:.3f} s | {o / b:.2f} |"
            for p, n, t, c, m, o, f, b in rows
        ],
    ]
    if args.write:
        text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
        block = f"{BEGIN}\n" + "\n".join(table) + f"\n{END}"
        if BEGIN in text:
            text = text.split(BEGIN)[0] + block + text.split(END, 1)[1]
        else:
            text = (
                text.rstrip()
                + "\n\n## Plan benchmark (`bench/bench_plan.py`)\n\n"
                + PLAN_NOTES
                + "\n"
                + block
                + "\n"
            )
        README.write_text(text, encoding="utf-8")
    print("\n".join(table))


PLAN_NOTES = """`dsenv plan PROFILE --format json` in a fresh process per run (Python start-up,
imports, profile loading, expansion and the program under the SDK's mock runtime), median
of the runs; peak RSS is the largest of the runs. These processes all run before the
in-process measurements below, so that each reports its own peak memory and not the
benchmark's (a child started from a large process inherits that process's peak RSS).

The ratio compares, in one process and under the same mocks, the capture of dsenv's program
with the capture of a flat hand-written Pulumi program that creates the same resources. That
program is generated from dsenv's captured graph: one statement per resource, parents,
providers and dependencies first, through the SDK's typed classes (`aws.iam.Role(...)`,
`k8s.core.v1.Namespace(...)`, `k8s.helm.v3.Release(...)`, `aws.Provider`, `k8s.Provider`,
and `k8s.apiextensions.CustomResource` for the custom resources of CRDs) with snake_case
keyword arguments, and a `pulumi.ComponentResource` for each of dsenv's components.
`--emit DIR` writes it to DIR/<profile>.py. Before timing, the benchmark checks that it
registers exactly what dsenv's program does: the same URNs and, for each, the same type,
parent, inputs, dependencies, provider and options. The flat program passes every input as
a literal (secrets as `pulumi.Output.secret(...)`), with no Output wiring between
resources, so it does a little less work than a real hand-written program would: the
comparison is generous to the baseline. The target (ratio <= 1.2) applies to this ratio.

The floor registers the same resources with bare `pulumi.CustomResource(type, name,
inputs, opts)`: no typed classes, so none of the SDK's input-name translation or the source
stack trace it records for each resource created through a typed class, and no explicit
providers. It is a lower bound for any program, not a stand-in for a hand-written one.

The three captures take turns, each after a garbage collection; the table shows medians.
"""

if __name__ == "__main__":
    main()
