"""Benchmark of the profile path: `dsenv --help`, `dsenv validate profiles/`, and validating
200 generated team profiles (in-process, and with one `dsenv validate DIR` call).

A script, not a test: timings depend on the machine. Run from the repository root:

    python bench/bench_validate.py [--runs 15] [--teams 200]

It prints a Markdown table of median wall times next to their targets; bench/README.md keeps
the figures measured on the reference machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_CLI = 0.25  # seconds: --help and validate of the example profiles
TARGET_MANY = 3.0  # seconds: 200 generated team profiles


def dsenv_command() -> list[str]:
    script = Path(sys.executable).with_name("dsenv")
    if script.is_file():
        return [str(script)]
    found = shutil.which("dsenv")
    return [found] if found else [sys.executable, "-c", "from dsenv.cli.app import main; main()"]


def median_seconds(action: Callable[[], object], runs: int) -> float:
    action()  # warm the page cache and, in-process, the imports
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(args: list[str], expect: int = 0) -> Callable[[], object]:
    def action() -> object:
        result = subprocess.run(args, cwd=ROOT, capture_output=True, check=False)
        if result.returncode != expect:
            raise SystemExit(
                f"{' '.join(args)} exited {result.returncode}: {result.stderr.decode()}"
            )
        return result

    return action


def generate_teams(folder: Path, count: int, seed: int = 2) -> list[Path]:
    """`count` varied, valid team profiles extending a copy of the example org."""
    rng = random.Random(seed)
    (folder / "org").mkdir(parents=True)
    shutil.copy(ROOT / "profiles" / "org" / "acme.yaml", folder / "org" / "acme.yaml")
    paths = []
    for i in range(count):
        tiers = [f"t{j}" for j in range(rng.randint(1, 4))]
        lines = [
            "apiVersion: dsenv/v1",
            "kind: Team",
            f"name: team-{i:03d}",
            "extends: org/acme.yaml",
            f"owners: [owner{i}@acme.example]",
            f"tags: {{project: p{i}}}",
            "languages:",
            f'  python: {{version: "3.1{rng.randint(1, 2)}", packages: [pandas, scikit-learn]}}',
            "tools: [jupyterlab, vscode]",
            "tiers:",
        ]
        for j, tier in enumerate(tiers):
            kind = rng.choice(["m7i.large", "m7i.2xlarge", "r7i.4xlarge"])
            gpus = ", gpus: 1, max_nodes: 2" if j == 1 else f", max_nodes: {rng.randint(1, 10)}"
            itype = "g5.2xlarge" if j == 1 else kind
            lines.append(
                f"  {tier}: {{cpu: {2 ** rng.randint(1, 4)}, memory: {2 ** rng.randint(3, 6)}Gi, instance_types: [{itype}]{gpus}}}"
            )
        lines += [
            f"groups:\n  all: {{members: [u{i}], tiers: [{', '.join(tiers)}]}}",
            f"workspaces: {{default_tier: {tiers[0]}, idle_timeout: 30m, storage: 20Gi}}",
        ]
        if rng.random() < 0.5:
            lines.append(
                f"spark: {{driver_tier: {tiers[0]}, executor_tier: {tiers[-1]}, max_executors: 8}}"
            )
        if rng.random() < 0.5:
            lines.append("kafka:\n  topics:\n    - {name: events, partitions: 6, retention: 7d}")
        if rng.random() < 0.5:
            lines.append(
                f"ci_runners: {{provider: github, organization: acme, repositories: [acme/r{i}], tier: {tiers[0]}}}"
            )
        if rng.random() < 0.5:
            lines.append(
                f"serving:\n  tier: {tiers[0]}\n  models:\n"
                f'    - {{name: m{i}, framework: sklearn, storage_uri: "s3://acme/m{i}/1"}}'
            )
        lines.append(f"budget: {{monthly_usd: {rng.randint(500, 20000)}}}")
        path = folder / f"team-{i:03d}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per measurement")
    parser.add_argument("--teams", type=int, default=200, help="generated team profiles")
    options = parser.parse_args()

    from dsenv.profile.load import load_profile
    from dsenv.spec.expand import expand_profile

    dsenv = dsenv_command()
    rows: list[tuple[str, float, float]] = []
    rows.append(
        (
            "`dsenv --help` (process)",
            median_seconds(run([*dsenv, "--help"]), options.runs),
            TARGET_CLI,
        )
    )
    rows.append(
        (
            "`dsenv validate profiles/` (process)",
            median_seconds(run([*dsenv, "validate", "profiles/"]), options.runs),
            TARGET_CLI,
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        teams = generate_teams(folder, options.teams)
        many = max(3, options.runs // 3)

        def in_process() -> None:
            for path in teams:
                expand_profile(load_profile(path))

        rows.append(
            (
                f"{len(teams)} generated teams, load + expand (in-process)",
                median_seconds(in_process, many),
                TARGET_MANY,
            )
        )
        rows.append(
            (
                f"{len(teams)} generated teams, one `dsenv validate DIR` (process)",
                median_seconds(run([*dsenv, "validate", str(folder)]), many),
                TARGET_MANY,
            )
        )

    print(
        f"dsenv profile benchmark: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, median of {options.runs} runs ({many} for the 200-team rows)\n"
    )
    print("| measurement | median (s) | target (s) | |")
    print("|---|---:|---:|---|")
    for name, seconds, target in rows:
        print(
            f"| {name} | {seconds:.3f} | {target:.2f} | {'ok' if seconds <= target else 'OVER'} |"
        )


if __name__ == "__main__":
    main()
