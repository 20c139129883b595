"""Drift checks against the stand-in CLI where the real one cannot be made to fail so (see
tests/live/README.md; test_e2e.py runs drift for real), the reports, and the unmanaged check
against moto's tagging API."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from junitparser import Error, JUnitXml
from moto import mock_aws

from dsenv.errors import ExitCode
from dsenv.live.drift import DriftTarget, parse_shard, run_drift, shard
from dsenv.live.events import Recorder
from dsenv.live.reports import to_junit
from dsenv.live.unmanaged import unmanaged

from .conftest import Standin, team_resources

# Each test drives the real Automation API against the stand-in CLI: a few seconds each.
pytestmark = pytest.mark.slow


def target(stack: str, region: str | None = None) -> DriftTarget:
    return DriftTarget(f"profiles/{stack}.yaml", stack, "team", region, lambda: None)


def deploy(engine: Any, standin: Standin, stack: str, **scenario: Any) -> None:
    standin.scenario(stack, desired=team_resources(stack))
    engine.open(stack, lambda: None).up(Recorder())
    if scenario:
        standin.scenario(stack, desired=team_resources(stack), **scenario)


@pytest.mark.parametrize(
    ("cli_version", "text", "code"),
    # CLI 3.226 and later ("...expected for preview...", exit 7) is what the end-to-end run
    # meets (test_e2e.py); only the older text needs the stand-in
    [("3.205.0", "no changes were expected but changes were proposed", 255)],
    ids=["older-cli"],
)
def test_pending_drift_is_a_finding_with_the_text_of_an_older_cli(
    engine: Any,
    standin: Standin,
    monkeypatch: pytest.MonkeyPatch,
    cli_version: str,
    text: str,
    code: int,
) -> None:
    """`--expect-no-changes` fails the preview when the profile changed; that is drift, not
    an error. From CLI 3.226 the text names the operation and the exit code is 7."""
    import subprocess

    deploy(engine, standin, "acme-pending")
    desired = team_resources("acme-pending")
    desired[3]["inputs"] = {"spec": {"partitions": 24}}
    standin.scenario("acme-pending", desired=desired)
    monkeypatch.setenv("DSENV_STANDIN_VERSION", cli_version)
    # what the CLI itself says, so the test cannot pass on a text it never prints
    run = subprocess.run(
        ["pulumi", "preview", "--stack", "acme-pending", "--expect-no-changes"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PULUMI_BACKEND_URL": f"file://{standin.backend}"},
    )
    assert (run.returncode, run.stderr.strip()) == (code, f"error: {text}")
    report = run_drift(engine, [target("acme-pending")], kinds=("pending",))
    (stack,) = report.stacks
    assert stack.error is None
    assert [(f.kind, f.op, f.urn.rsplit("::", 1)[-1], f.paths) for f in stack.findings] == [
        ("pending", "update", "transactions", ("spec.partitions",))
    ]
    assert report.exit_code == ExitCode.FINDINGS


def test_another_preview_failure_is_an_error_not_drift(engine: Any, standin: Standin) -> None:
    deploy(engine, standin, "acme-broken")
    standin.scenario(
        "acme-broken",
        desired=team_resources("acme-broken"),
        fail={"op": "preview", "times": 1, "stderr": "error: AccessDenied: not allowed"},
    )
    report = run_drift(engine, [target("acme-broken")], kinds=("pending",))
    assert report.stacks[0].status == "error" and "AccessDenied" in (report.stacks[0].error or "")
    assert report.exit_code == ExitCode.OPERATIONAL


def test_a_replacement_is_reported_as_a_replacement(engine: Any, standin: Standin) -> None:
    """The engine sends `delete-replaced` for the old resource after every create and update;
    the resource is still one replacement, with the stateful-resource warning."""
    from dsenv.live.events import engine_lines

    desired = team_resources("acme-replace")
    desired[1]["replace_on"] = ["bucket"]
    desired[1]["protect"] = False
    desired[1]["inputs"] = {**desired[1]["inputs"], "bucket": "acme-data"}
    standin.scenario("acme-replace", desired=desired)
    stack = engine.open("acme-replace", lambda: None)
    stack.up(Recorder())
    desired[1]["inputs"] = {**desired[1]["inputs"], "bucket": "acme-data-2"}
    desired[3]["inputs"] = {"spec": {"partitions": 24}}
    standin.scenario("acme-replace", desired=desired)
    ops: list[str] = []
    recorder = Recorder(listener=lambda s: ops.append(s.op))
    result = stack.preview(recorder)
    raw = [e for e in ops if e != "same"]
    assert raw[-1] == "replace"  # the listener sees the merged op, even for delete-replaced
    assert [(c.name, c.op) for c in result.changes] == [
        ("data", "replace"),
        ("transactions", "update"),
    ]
    _, summary, warnings = engine_lines(result.changes)
    assert summary.startswith("0 to add, 2 to change (1 replaced), 0 to remove")
    assert warnings == [
        "WARNING: aws:s3/bucketV2:BucketV2 data will be REPLACED: its data or service is lost"
    ]
    report = run_drift(engine, [target("acme-replace")], kinds=("pending",))
    assert report.stacks[0].findings[0].op == "replace"
    assert report.stacks[0].findings[0].paths == ("bucket",)


def test_a_stack_that_cannot_be_checked_is_exit_3(
    engine: Any, standin: Standin, tmp_path: Path
) -> None:
    deploy(engine, standin, "acme-denied")
    standin.scenario(
        "acme-denied",
        desired=team_resources("acme-denied"),
        fail={"op": "preview", "times": 1, "stderr": "error: AccessDenied: not allowed"},
    )
    report = run_drift(engine, [target("acme-denied")], kinds=("pending",))
    assert report.exit_code == ExitCode.OPERATIONAL
    path = tmp_path / "junit.xml"
    path.write_text(to_junit(report))
    case = next(iter(next(iter(JUnitXml.fromfile(str(path))))))
    assert isinstance(case.result[0], Error)


def test_github_annotations_mark_drift_as_warnings_and_unchecked_stacks_as_errors() -> None:
    from dsenv.live.drift import DriftReport, Finding, StackDrift
    from dsenv.live.reports import to_github

    report = DriftReport(
        [
            StackDrift(
                "acme-a",
                "profiles/a.yaml",
                [Finding("cloud", "urn:pulumi:a::dsenv::t::x", "t", "update", ("spec,size",))],
            ),
            StackDrift("acme-b", "profiles/b.yaml", error="preview failed: 100%\nlocked"),
            StackDrift("acme-c", "profiles/c.yaml"),
        ]
    )
    lines = to_github(report).splitlines()
    assert lines[0].startswith(
        "::warning file=profiles/a.yaml,title=cloud drift in acme-a::cloud     update"
    )
    assert "[spec,size]" in lines[0]  # message text keeps commas; properties escape them
    assert lines[1] == (
        "::error file=profiles/b.yaml,title=dsenv drift could not check acme-b::"
        "preview failed: 100%25%0Alocked"
    )
    assert lines[2].startswith("3 stacks: 1 clean, 1 drifted, 1 not checked")


def test_shards_partition_the_stacks() -> None:
    targets = [target(f"acme-{i:02d}") for i in range(10)]
    parts = [shard(targets, i, 3) for i in (1, 2, 3)]
    names = sorted(t.stack for part in parts for t in part)
    assert names == sorted(t.stack for t in targets) and [len(p) for p in parts] == [4, 3, 3]
    assert parse_shard("2/3") == (2, 3)


@mock_aws
def test_unmanaged_finds_team_tagged_resources_missing_from_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3 = boto3.client("s3", region_name="us-east-1")
    for name, tags in (
        ("managed", {"dsenv:team": "team"}),
        ("by-hand", {"dsenv:team": "team"}),
        ("other-team", {"dsenv:team": "other"}),
        ("untagged", {}),
    ):
        s3.create_bucket(Bucket=name)
        if tags:
            s3.put_bucket_tagging(
                Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
            )
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ec2.create_vpc(
        CidrBlock="10.0.0.0/16",
        TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": "dsenv:team", "Value": "team"}]}
        ],
    )
    state_outputs = [{"arn": "arn:aws:s3:::managed", "tags": {"dsenv:team": "team"}}]
    found = unmanaged("team", "us-east-1", state_outputs)
    assert "arn:aws:s3:::by-hand" in found
    assert "arn:aws:s3:::managed" not in found
    assert not any("other-team" in a or "untagged" in a for a in found)
    assert any(":vpc/" in a for a in found)
