"""Fixtures for the live engine. `standin` puts tests/live/standin/pulumi (a stand-in for the
real Pulumi CLI, which cannot be installed here; see its docstring for what it replays) first
on PATH, with a file backend, dsenv home and scenario folder under tmp_path."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

STANDIN = Path(__file__).parent / "standin"
PROJECT = "dsenv"


def urn(stack: str, type_: str, name: str, parents: tuple[str, ...] = ()) -> str:
    chain = "$".join((*parents, type_))
    return f"urn:pulumi:{stack}::{PROJECT}::{chain}::{name}"


def team_resources(stack: str) -> list[dict[str, Any]]:
    """What dsenv's program declares for a small team: a base and a kafka component."""
    base = urn(stack, "dsenv:base:Base", "team")
    kafka = urn(stack, "dsenv:kafka:Kafka", "team")
    return [
        {"urn": base, "type": "dsenv:base:Base", "custom": False, "inputs": {}},
        {
            "urn": urn(stack, "aws:s3/bucketV2:BucketV2", "data", ("dsenv:base:Base",)),
            "type": "aws:s3/bucketV2:BucketV2",
            "parent": base,
            "protect": True,
            "inputs": {"tags": {"dsenv:team": "team", "owner": "platform"}},
            "outputs": {"arn": f"arn:aws:s3:::{stack}-data"},
        },
        {"urn": kafka, "type": "dsenv:kafka:Kafka", "custom": False, "inputs": {}},
        {
            "urn": urn(
                stack,
                "kubernetes:kafka.strimzi.io/v1beta2:KafkaTopic",
                "transactions",
                ("dsenv:kafka:Kafka",),
            ),
            "type": "kubernetes:kafka.strimzi.io/v1beta2:KafkaTopic",
            "parent": kafka,
            "inputs": {"spec": {"partitions": 12}},
        },
    ]


@dataclass
class Standin:
    root: Path
    env: dict[str, str]

    @property
    def backend(self) -> Path:
        return self.root / "state"

    def scenario(self, stack: str, **data: Any) -> None:
        folder = self.root / "scenario"
        folder.mkdir(exist_ok=True)
        (folder / f"{stack}.json").write_text(json.dumps(data))

    def lock(self, stack: str, holder: str = "ci-bot", pid: int = 4242) -> Path:
        folder = self.backend / ".pulumi" / "locks" / "organization" / PROJECT / stack
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "held.json"
        path.write_text(
            json.dumps(
                {
                    "pid": pid,
                    "username": holder,
                    "hostname": "runner-7",
                    "timestamp": "2025-06-01T02:00:00Z",
                }
            )
        )
        return path


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Standin:
    env = {
        "PATH": f"{STANDIN}:{__import__('os').environ['PATH']}",
        "DSENV_HOME": str(tmp_path / "home"),
        "DSENV_BACKEND": f"file://{tmp_path / 'state'}",
        "DSENV_STANDIN_SCENARIO": str(tmp_path / "scenario"),
        "PULUMI_CONFIG_PASSPHRASE": "test-only",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "state").mkdir()
    return Standin(tmp_path, env)


@pytest.fixture
def engine(standin: Standin) -> Any:
    from dsenv.live.engine import Engine, RetryPolicy
    from dsenv.live.pulumicli import find_pulumi
    from dsenv.live.settings import resolve_settings

    return Engine(resolve_settings(), find_pulumi(), RetryPolicy(sleep=lambda _: None))
