"""Benchmark of refusing hostile input: `dsenv validate` on a device that never ends, a
named pipe nobody writes to, pathological nesting, and a failing file at the size where the
slow, precise re-parse stops. Each must be refused (exit 2) in well under a second.

A script, not a test: timings depend on the machine (tests/profile/test_hostile_inputs.py
checks the same refusals with a generous timeout). Run from the repository root:

    python bench/bench_hostile.py [--runs 7]

It prints a Markdown table of median wall times (the whole process, start-up included, and
`dsenv --version` for the start-up alone); bench/README.md keeps the reference figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench_validate import dsenv_command

TARGET = 1.0  # seconds, per refused input


def timed(args: list[str], expect: int, runs: int) -> float:
    times = []
    for _ in range(runs + 1):  # the first run warms the page cache
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, timeout=120, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != expect:
            raise SystemExit(f"{args} exited {done.returncode}: {done.stderr.decode()[:300]}")
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    dsenv = dsenv_command()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        fifo = tmp / "pipe.yaml"
        os.mkfifo(fifo)
        (tmp / "brackets.yaml").write_text("[" * 100_000)
        (tmp / "maps.yaml").write_text("a: " + "{a: " * 25_000)
        (tmp / "blocks.yaml").write_text("".join("  " * i + f"k{i}:\n" for i in range(300)))
        # 16 KiB, the largest file re-read for precise messages, failing at its end
        body = "".join(f"k{i}: [a, b, {{c: d}}]\n" for i in range(1000))
        (tmp / "syntax.yaml").write_text(body[: 16 * 1024 - 20] + "\nbad: [1, 2\n")
        (tmp / "syntax-big.yaml").write_text(body * 30 + "\nbad: [1, 2\n")
        # (label, command, exit code, held to the target)
        rows = [
            ("`dsenv --version` (start-up alone)", [*dsenv, "--version"], 0, False),
            ("`/dev/zero`", [*dsenv, "validate", "/dev/zero"], 2, True),
            ("a FIFO without a writer", [*dsenv, "validate", str(fifo)], 2, True),
            ("100 KB of `[`", [*dsenv, "validate", str(tmp / "brackets.yaml")], 2, True),
            ("25,000 nested `{a: `", [*dsenv, "validate", str(tmp / "maps.yaml")], 2, True),
            (
                "300 levels of block mappings",
                [*dsenv, "validate", str(tmp / "blocks.yaml")],
                2,
                True,
            ),
            (
                "16 KiB, syntax error at the end (re-read)",
                [*dsenv, "validate", str(tmp / "syntax.yaml")],
                2,
                True,
            ),
            # for scale: an ordinary file near the 1 MiB cap costs its parse, re-read or not
            (
                "700 KB, syntax error at the end (not re-read)",
                [*dsenv, "validate", str(tmp / "syntax-big.yaml")],
                2,
                False,
            ),
        ]
        print(f"| input | median wall ({runs} runs) | target | |\n|---|---:|---:|---|")
        for label, args, expect, held in rows:
            seconds = timed(args, expect, runs)
            verdict = ("ok" if seconds <= TARGET else "SLOW") if held else ""
            target = f"{TARGET:.1f} s" if held else ""
            print(f"| {label} | {seconds:.3f} s | {target} | {verdict} |")


if __name__ == "__main__":
    main()
