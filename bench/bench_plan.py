"""Benchmark `dsenv plan` on every example profile.

    python bench/bench_plan.py [--runs N] [--write]

For each profile: the median wall time and peak memory (max RSS) of the whole command,
`dsenv plan PROFILE --format json`, each run in a fresh process (imports included); and,
in-process, the ratio of capturing dsenv's program to capturing a hand-written program
that registers the same resources with the same inputs directly
(`pulumi.CustomResource(type, name, props, opts)`) under the same mocks. With `--write` the
results replace the "Plan benchmark" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


def hand_written(graph: Any) -> Any:
    """A program registering `graph`'s resources directly, in the same order and tree."""
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


def _topological(graph: Any) -> list[Any]:
    by_urn, done, order = graph.by_urn(), set(), []

    def visit(urn: str) -> None:
        if urn in done or urn not in by_urn:
            return
        done.add(urn)
        r = by_urn[urn]
        if r.parent:
            visit(r.parent)
        for d in r.dependencies:
            visit(d)
        order.append(r)

    for urn in by_urn:
        visit(urn)
    return order


def ratio(profile: Path, runs: int) -> tuple[float, float, int]:
    """(median seconds of dsenv's capture, of the hand-written one, resource count)."""
    from dsenv.offline.capture import capture, capture_spec
    from dsenv.offline.run import spec_for

    spec = spec_for(profile)
    graph = capture_spec(spec)
    program = hand_written(graph)
    region = spec.aws.region if spec.aws else "us-east-1"
    ours, theirs = [], []
    for _ in range(runs):  # interleaved, so drift on a shared machine hits both alike
        t = time.perf_counter()
        capture_spec(spec)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        copy = capture(program, stack=spec.stack_name, region=region)
        theirs.append(time.perf_counter() - t)
    assert len(copy.resources) == len(graph.resources), "the hand-written program differs"
    return statistics.median(ours), statistics.median(theirs), sum(r.custom for r in graph)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--write", action="store_true", help="write the results into bench/README.md"
    )
    args = parser.parse_args()
    rows = []
    for profile in sorted((ROOT / "profiles").glob("*.yaml")):
        cli = [run_cli(profile) for _ in range(args.runs)]
        ours, theirs, count = ratio(profile, args.runs)
        wall = statistics.median(t for t, _, _ in cli)
        cpu = statistics.median(c for _, c, _ in cli)
        rss = max(m for _, _, m in cli)
        name = profile.relative_to(ROOT).as_posix()
        rows.append((name, count, wall, cpu, rss, ours, theirs, ours / theirs))
        print(
            f"{name}: {count} resources, {wall:.2f} s wall, {cpu:.2f} s CPU, {rss:.0f} MiB, "
            f"capture {ours:.3f} s vs hand-written {theirs:.3f} s = {ours / theirs:.2f}x",
            flush=True,
        )
    table = [
        f"Measured with `python bench/bench_plan.py --runs {args.runs} --write` on "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs "
        f"({time.strftime('%Y-%m-%d')}), load average {os.getloadavg()[0]:.1f} at the end "
        "(other work was running; wall times grow with load, CPU times much less). "
        "Targets for fraud.yaml: <= 3 s, <= 300 MB, ratio <= 1.2.",
        "",
        "| profile | resources | `dsenv plan` wall (median) | CPU (median) | peak RSS "
        "| capture: dsenv program | capture: hand-written | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {p} | {n} | {t:.2f} s | {c:.2f} s | {m:.0f} MiB | {o:.3f} s | {h:.3f} s | {r:.2f} |"
            for p, n, t, c, m, o, h, r in rows
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
of the runs; peak RSS is the largest of the runs. The ratio compares, in one process, the
capture of dsenv's program with the capture of a program that registers the very same
resources (same types, names, inputs, parents and dependencies) directly with
`pulumi.CustomResource`; it is the overhead of dsenv's components over bare Pulumi.
"""

if __name__ == "__main__":
    main()
