"""Drift over many stacks with the stand-in CLI at a fixed per-stack latency: how close the
wall time comes to the ideal parallel time, ceil(stacks / concurrency) x per-stack time.

Run: python bench/bench_drift.py [--stacks 50] [--concurrency 10] [--latency 1.0]
The per-stack time is measured on one stack alone (CLI start-up and SDK work included), so
the ratio isolates what concurrency costs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

STANDIN = Path(__file__).resolve().parent.parent / "tests" / "live" / "standin"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stacks", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--latency", type=float, default=1.0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dsenv-bench-"))
    (root / "scenario").mkdir()
    plugins = root / "plugins-bin"  # the provider plugin on PATH, as the engine finds it
    plugins.mkdir()
    (plugins / "pulumi-resource-kubernetes").write_text("#!/bin/sh\n")
    (plugins / "pulumi-resource-kubernetes").chmod(0o755)
    os.environ.update(
        {
            "PATH": os.pathsep.join([str(STANDIN), str(plugins), os.environ["PATH"]]),
            "DSENV_STANDIN_PYTHON": sys.executable,
            "PULUMI_HOME": str(root / "pulumi-home"),
            "DSENV_HOME": str(root / "home"),
            "DSENV_BACKEND": f"file://{root / 'state'}",
            "DSENV_STANDIN_SCENARIO": str(root / "scenario"),
            "PULUMI_CONFIG_PASSPHRASE": "bench",
        }
    )
    from dsenv.live.drift import DriftTarget, run_drift
    from dsenv.live.engine import Engine
    from dsenv.live.pulumicli import find_pulumi
    from dsenv.live.settings import resolve_settings

    engine = Engine(resolve_settings(), find_pulumi())
    names = [f"acme-team{i:02d}" for i in range(args.stacks + 1)]
    for name in names:
        engine.open(name, lambda: None)  # stacks exist before the clock starts
        (root / "scenario" / f"{name}.json").write_text(json.dumps({"latency": args.latency}))
    targets = [DriftTarget(n, n, "team", None, lambda: None) for n in names]
    single = run_drift(engine, targets[:1], concurrency=1, kinds=("pending",)).seconds
    report = run_drift(engine, targets[1:], concurrency=args.concurrency, kinds=("pending",))
    ideal = math.ceil(args.stacks / args.concurrency) * single
    ratio = report.seconds / ideal
    print(
        json.dumps(
            {
                "stacks": args.stacks,
                "concurrency": args.concurrency,
                "latency_s": args.latency,
                "per_stack_s": round(single, 3),
                "ideal_s": round(ideal, 3),
                "wall_s": round(report.seconds, 3),
                "ratio": round(ratio, 3),
                "clean": sum(s.status == "clean" for s in report.stacks),
                "cpus": os.cpu_count(),
            }
        )
    )
    return 0 if ratio <= 1.15 else 1


if __name__ == "__main__":
    sys.exit(main())
