"""Hostile input: files that are not files, pathological YAML, values the cloud refuses, bad
options and bad paths. Each is refused with the documented exit code, never a traceback, and
a profile's problem is a `file:line:col` first line.

`HOSTILE` is the table of the report (run this module to print it as Markdown).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from testkit import PROFILES, run_cli

TEAM = """\
apiVersion: dsenv/v1
kind: Team
name: t
owners: [alice@acme.example]
target: {provider: aws, region: eu-west-1}
tiers:
  small: {cpu: 1, memory: 6Gi, instance_types: [m7i.large]}
"""
POSITION = re.compile(r"^\S+:\d+:\d+: ")


def _team(tmp: Path, text: str, name: str = "team.yaml") -> list[str]:
    (tmp / name).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return ["validate", str(tmp / name)]


def _edit(old: str, new: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        assert old in TEAM
        return _team(tmp, TEAM.replace(old, new))

    return make


def _add(lines: str) -> Callable[[Path], list[str]]:
    return lambda tmp: _team(tmp, TEAM + lines)


def _raw(data: bytes | str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        (tmp / "team.yaml").write_bytes(data if isinstance(data, bytes) else data.encode())
        return ["validate", str(tmp / "team.yaml")]

    return make


def _fifo(tmp: Path) -> list[str]:
    os.mkfifo(tmp / "team.yaml")
    return ["validate", str(tmp / "team.yaml")]


def _fifo_at(path: Path) -> str:
    os.mkfifo(path)
    return str(path)


def _socket(tmp: Path) -> list[str]:
    path = tmp / "team.yaml"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))  # left bound: the test process exits soon
    _SOCKETS.append(sock)
    return ["validate", str(path)]


_SOCKETS: list[socket.socket] = []


def _sandbox(tmp: Path) -> Path:
    shutil.copytree(PROFILES, tmp / "profiles")
    return tmp / "profiles" / "sandbox.yaml"


def _cli(build: Callable[[Path, Path], list[str]]) -> Callable[[Path], list[str]]:
    """A command on a copy of the sandbox example: `build(tmp, sandbox_profile)`."""
    return lambda tmp: build(tmp, _sandbox(tmp))


def _file(tmp: Path, name: str, text: str) -> Path:
    (tmp / name).write_text(text, encoding="utf-8")
    return tmp / name


@dataclass(frozen=True)
class Hostile:
    id: str
    what: str
    make: Callable[[Path], list[str]]
    code: int
    at: bool  # the first stderr line is file:line:col


HOSTILE: tuple[Hostile, ...] = (
    # --- files that are not profile files
    Hostile(
        "dev-zero",
        "validate /dev/zero (a device that never ends)",
        lambda t: ["validate", "/dev/zero"],
        2,
        True,
    ),
    Hostile("fifo", "a named pipe nobody writes to", _fifo, 2, True),
    Hostile("socket", "a Unix socket", _socket, 2, True),
    Hostile(
        "missing",
        "a profile that does not exist",
        lambda t: ["validate", str(t / "nope.yaml")],
        2,
        True,
    ),
    Hostile("empty-folder", "a folder without profiles", lambda t: ["validate", str(t)], 2, False),
    Hostile(
        "over-1-mib",
        "a 1.5 MiB profile (comments)",
        _raw(TEAM + ("# " + "x" * 1000 + "\n") * 1500),
        2,
        True,
    ),
    # --- bytes and YAML no profile is made of
    Hostile("empty", "an empty file", _raw(""), 2, True),
    Hostile("just-document-marker", "only `---`", _raw("---\n"), 2, True),
    Hostile("top-level-list", "a list at the top", _raw("- apiVersion: dsenv/v1\n"), 2, True),
    Hostile("top-level-scalar", "a scalar at the top", _raw("hello\n"), 2, True),
    Hostile("utf16", "UTF-16 with BOM", _raw(TEAM.encode("utf-16")), 2, True),
    Hostile(
        "latin1-byte",
        "a Latin-1 byte in a value",
        _raw(TEAM.encode() + b"tags: {a: caf\xe9}\n"),
        2,
        True,
    ),
    Hostile("nul-byte", "a NUL byte in a value", _raw(TEAM + "tags: {a: \x00}\n"), 2, True),
    Hostile("yaml-1.1", "a %YAML 1.1 directive", _raw("%YAML 1.1\n---\n" + TEAM), 2, True),
    Hostile("two-documents", "two documents", _raw(TEAM + "---\n" + TEAM), 2, True),
    Hostile("nested-flow-100k", "100 KB of `[`", _raw("[" * 100_000), 2, True),
    Hostile(
        "nested-maps-50k",
        "50,000 nested flow mappings `{a: `",
        _raw("a: " + "{a: " * 50_000),
        2,
        True,
    ),
    Hostile(
        "nested-block-40",
        "40 levels of block mappings",
        _raw(TEAM + "".join("  " * i + f"k{i}:\n" for i in range(40)) + "  " * 40 + "v: 1\n"),
        2,
        True,
    ),
    Hostile(
        "billion-laughs",
        "anchors and aliases (billion laughs)",
        _raw(TEAM + "tags: &a {x: y}\nlabels: [*a, *a, *a]\n"),
        2,
        True,
    ),
    Hostile(
        "merge-key",
        "a merge key <<",
        _add("groups:\n  a: {<<: {members: []}, members: [bob], tiers: [small]}\n"),
        2,
        True,
    ),
    Hostile(
        "python-tag",
        "a !!python/object tag",
        _add("budget: !!python/object:os.system {}\n"),
        2,
        True,
    ),
    Hostile("duplicate-key", "a key given twice", _add("name: u\n"), 2, True),
    Hostile("unclosed-quote", "a quote never closed", _edit("name: t\n", 'name: "t\n'), 2, True),
    Hostile("tab-indent", "a tab as indentation", _edit("  small:", "\tsmall:"), 2, True),
    Hostile("api-v2", "apiVersion dsenv/v2", _edit("dsenv/v1", "dsenv/v2"), 2, True),
    Hostile("kind-cluster", "kind Cluster", _edit("kind: Team", "kind: Cluster"), 2, True),
    # --- values the cloud or the cluster would refuse
    Hostile(
        "name-200k",
        "a 200 KB team name",
        _edit("name: t\n", "name: " + "a" * 200_000 + "\n"),
        2,
        True,
    ),
    Hostile("name-uppercase", "team name Fraud", _edit("name: t\n", "name: Fraud\n"), 2, True),
    Hostile(
        "tag-value-900k",
        "a 900 KB tag value",
        _add("tags: {note: " + "v" * 900_000 + "}\n"),
        2,
        True,
    ),
    Hostile(
        "tag-key-129", "a 129-character tag key", _add("tags: {" + "k" * 129 + ": v}\n"), 2, True
    ),
    Hostile("tag-key-aws", "tag key aws:owner", _add("tags: {'aws:owner': me}\n"), 2, True),
    Hostile(
        "tag-value-chars", "a tag value with `;` and `<`", _add("tags: {note: 'a;<b>'}\n"), 2, True
    ),
    Hostile("region-mars", "region mars-east-1", _edit("eu-west-1", "mars-east-1"), 2, True),
    Hostile(
        "region-govcloud",
        "region us-gov-west-1 (another partition)",
        _edit("eu-west-1", "us-gov-west-1"),
        2,
        True,
    ),
    Hostile(
        "owners-not-emails",
        'owners ["", "not an email"]',
        _edit("[alice@acme.example]", '["", "not an email"]'),
        2,
        True,
    ),
    Hostile(
        "owners-string",
        "owners as one string",
        _edit("[alice@acme.example]", "alice@acme.example"),
        2,
        True,
    ),
    Hostile(
        "max-nodes-1e30",
        "max_nodes 10^30 (an integer)",
        _edit("[m7i.large]}", "[m7i.large], max_nodes: " + "1" + "0" * 30 + "}"),
        2,
        True,
    ),
    Hostile(
        "max-nodes-float",
        "max_nodes 1e30 (a float)",
        _edit("[m7i.large]}", "[m7i.large], max_nodes: 1e30}"),
        2,
        True,
    ),
    Hostile(
        "max-nodes-negative",
        "max_nodes -1",
        _edit("[m7i.large]}", "[m7i.large], max_nodes: -1}"),
        2,
        True,
    ),
    Hostile(
        "gpus-64", "64 GPUs per workspace", _edit("[m7i.large]}", "[m7i.large], gpus: 64}"), 2, True
    ),
    Hostile(
        "partitions-1m",
        "a topic of a million partitions",
        _add("kafka: {topics: [{name: t, partitions: 1000000}]}\n"),
        2,
        True,
    ),
    Hostile("brokers-1000", "1000 Kafka brokers", _add("kafka: {brokers: 1000}\n"), 2, True),
    Hostile(
        "runners-1m",
        "a million CI runners",
        _add(
            "ci_runners: {provider: github, organization: o, tier: small, max_runners: 1000000}\n"
        ),
        2,
        True,
    ),
    Hostile(
        "k8s-1.99",
        'kubernetes_version "1.99"',
        _edit("region: eu-west-1}", 'region: eu-west-1, kubernetes_version: "1.99"}'),
        2,
        True,
    ),
    Hostile(
        "k8s-number",
        "kubernetes_version 1.30 unquoted",
        _edit("region: eu-west-1}", "region: eu-west-1, kubernetes_version: 1.30}"),
        2,
        True,
    ),
    Hostile(
        "k8s-patch",
        'kubernetes_version "1.34.1"',
        _edit("region: eu-west-1}", 'region: eu-west-1, kubernetes_version: "1.34.1"}'),
        2,
        True,
    ),
    Hostile(
        "vpc-cidr-33",
        "vpc_cidr 10.0.0.0/33",
        _edit("region: eu-west-1}", "region: eu-west-1, vpc_cidr: 10.0.0.0/33}"),
        2,
        True,
    ),
    Hostile(
        "budget-1e12",
        "a budget of 10^12 USD",
        _add("budget: {monthly_usd: 1000000000000}\n"),
        2,
        True,
    ),
    Hostile(
        "bucket-name-69",
        "an org and team whose names pass the services' limits",
        lambda t: _team(
            t,
            TEAM.replace(
                "name: t\n", "name: churn-forecasting-labs-west\norg: northwind-analytics-eu\n"
            ),
        ),
        2,
        True,
    ),
    Hostile("extends-dev-zero", "extends: /dev/zero", _add("extends: /dev/zero\n"), 2, True),
    Hostile("extends-folder", "extends: a folder", _add("extends: .\n"), 2, True),
    Hostile("extends-self", "extends: itself", _add("extends: team.yaml\n"), 2, True),
    # --- bad options and bad paths (not a profile problem: no position)
    Hostile(
        "plan-onto-profile",
        "plan -o onto the profile",
        _cli(lambda t, p: ["plan", str(p), "-o", str(p)]),
        2,
        False,
    ),
    Hostile(
        "plan-onto-org",
        "plan -o onto the org it extends",
        _cli(
            lambda t, p: [
                "plan",
                str(p.parent / "fraud.yaml"),
                "-o",
                str(p.parent / "org" / "acme.yaml"),
            ]
        ),
        2,
        False,
    ),
    Hostile(
        "plan-onto-folder",
        "plan -o onto a folder",
        _cli(lambda t, p: ["plan", str(p), "-o", str(t)]),
        2,
        False,
    ),
    Hostile(
        "graph-onto-devnull",
        "graph -o /dev/null (a device)",
        _cli(lambda t, p: ["graph", str(p), "-o", "/dev/null"]),
        2,
        False,
    ),
    Hostile(
        "render-into-file",
        "render -o onto a file",
        _cli(lambda t, p: ["render", str(p), "-o", str(p)]),
        2,
        False,
    ),
    Hostile(
        "graph-bad-capability",
        "graph --capability kafak",
        _cli(lambda t, p: ["graph", str(p), "--capability", "kafak"]),
        2,
        False,
    ),
    Hostile(
        "plan-format-xml",
        "plan --format xml",
        _cli(lambda t, p: ["plan", str(p), "--format", "xml"]),
        2,
        False,
    ),
    Hostile(
        "prices-dev-zero",
        "cost --prices /dev/zero",
        _cli(lambda t, p: ["cost", str(p), "--prices", "/dev/zero"]),
        2,
        False,
    ),
    Hostile(
        "prices-missing",
        "cost --prices that does not exist",
        _cli(lambda t, p: ["cost", str(p), "--prices", str(t / "nope.yaml")]),
        2,
        False,
    ),
    Hostile(
        "prices-shape",
        "cost --prices with `instances: 3`",
        _cli(lambda t, p: ["cost", str(p), "--prices", str(_file(t, "p.yaml", "instances: 3\n"))]),
        2,
        False,
    ),
    Hostile(
        "prices-text-price",
        "cost --prices with a price `cheap`",
        _cli(
            lambda t, p: [
                "cost",
                str(p),
                "--prices",
                str(_file(t, "p.yaml", "eks_cluster_hour: cheap\n")),
            ]
        ),
        2,
        False,
    ),
    Hostile(
        "prices-list",
        "cost --prices holding a list",
        _cli(lambda t, p: ["cost", str(p), "--prices", str(_file(t, "p.yaml", "- 1\n"))]),
        2,
        False,
    ),
    Hostile(
        "check-k8s-9.9",
        "check --kubernetes-version 9.9",
        _cli(lambda t, p: ["check", str(p), "--kubernetes-version", "9.9"]),
        2,
        False,
    ),
    Hostile(
        "check-k8s-text",
        "check --kubernetes-version latest",
        _cli(lambda t, p: ["check", str(p), "--kubernetes-version", "latest"]),
        2,
        False,
    ),
    Hostile(
        "check-schemas-device",
        "check --schemas /dev/null",
        _cli(lambda t, p: ["check", str(p), "--schemas", "/dev/null"]),
        2,
        False,
    ),
    Hostile(
        "check-schemas-bad-crd",
        "check --schemas with a CRD without spec",
        _cli(
            lambda t, p: [
                "check",
                str(p),
                "--schemas",
                str(_file(t, "crd.yaml", "kind: CustomResourceDefinition\nspec: {}\n")),
            ]
        ),
        2,
        False,
    ),
    Hostile(
        "diff-truncated-json",
        "diff of a truncated plan JSON",
        _cli(lambda t, p: ["diff", str(_file(t, "a.json", '{"format_version": 1')), str(p)]),
        2,
        False,
    ),
    Hostile(
        "diff-json-list",
        "diff of a JSON list",
        _cli(lambda t, p: ["diff", str(_file(t, "a.json", "[]")), str(p)]),
        2,
        False,
    ),
    Hostile(
        "diff-json-bad-resource",
        "diff of a plan whose resource has no URN",
        _cli(
            lambda t, p: [
                "diff",
                str(
                    _file(
                        t, "a.json", json.dumps({"format_version": 1, "resources": [{"type": "x"}]})
                    )
                ),
                str(p),
            ]
        ),
        2,
        False,
    ),
    Hostile(
        "diff-json-fifo",
        "diff of a plan that is a FIFO",
        _cli(lambda t, p: ["diff", _fifo_at(t / "a.json"), str(p)]),
        2,
        False,
    ),
    Hostile(
        "diff-both-forms",
        "diff OLD NEW --against REF",
        _cli(lambda t, p: ["diff", str(p), str(p), "--against", "HEAD"]),
        2,
        False,
    ),
    Hostile(
        "init-bad-name",
        "init Bad_Name",
        lambda t: ["init", "Bad_Name", "-o", str(t / "x.yaml")],
        2,
        False,
    ),
)


def _run(case: Hostile, tmp: Path) -> tuple[int, str]:
    args = case.make(tmp)
    code, _, err = run_cli(args)
    assert "Traceback" not in err and "internal error" not in err, err
    return code, err.splitlines()[0] if err else ""


@pytest.mark.parametrize("case", HOSTILE, ids=[c.id for c in HOSTILE])
def test_hostile_input_is_refused_with_its_exit_code(case: Hostile, tmp_path: Path) -> None:
    code, first = _run(case, tmp_path)
    assert code == case.code, first
    assert bool(POSITION.match(first)) == case.at, first


def test_the_hostile_table_has_at_least_forty_inputs_with_unique_ids() -> None:
    assert len(HOSTILE) >= 40
    assert len({c.id for c in HOSTILE}) == len(HOSTILE)


# --- not blocking, not growing: real processes with a timeout ---------------------------


def _dsenv() -> list[str]:
    script = Path(sys.executable).with_name("dsenv")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "dsenv.cli"]


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "nested-100k"])
def test_a_device_a_fifo_and_a_deep_file_are_refused_quickly(kind: str, tmp_path: Path) -> None:
    """Measured in bench/README.md (bench/bench_hostile.py): about 0.2 s each, all start-up.
    The timeout is generous: it catches a hang (a FIFO without a writer) or a read of an
    endless device, not a slow machine."""
    if kind == "dev-zero":
        path = "/dev/zero"
    elif kind == "fifo":
        path = str(tmp_path / "team.yaml")
        os.mkfifo(path)
    else:
        path = str(tmp_path / "team.yaml")
        Path(path).write_text("[" * 100_000)
    started = time.monotonic()
    done = subprocess.run(
        [*_dsenv(), "validate", path], capture_output=True, text=True, timeout=30, check=False
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"{path}:1:"), done.stderr
    assert elapsed < 30


if __name__ == "__main__":  # the table for the report
    import tempfile

    print("| # | input | exit | first line file:line:col |\n|---:|---|---:|---|")
    for i, case in enumerate(HOSTILE, 1):
        with tempfile.TemporaryDirectory() as folder:
            code, first = _run(case, Path(folder))
        print(
            f"| {i} | {case.what} (`{case.id}`) | {code} | {'yes' if POSITION.match(first) else 'no'} |"
        )
