"""Fixtures for the live engine. `standin` puts tests/live/standin/pulumi (a stand-in for the
real Pulumi CLI, which is not installed where these tests run; tests/live/README.md says what
it replays and which upstream source each behaviour follows) first on PATH, with a file
backend (not created: dsenv creates it), dsenv home, Pulumi home and scenario folder under
tmp_path, and the provider plugins on PATH as "ambient" plugins, as on a machine that built
them (the plugin tests take them away)."""

from __future__ import annotations

import json
import os
import sys
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

    def state(self, stack: str) -> dict[str, Any]:
        """The deployment the CLI keeps for a stack (`checkpoint.latest` of its file)."""
        path = self.backend / ".pulumi" / "stacks" / PROJECT / f"{stack}.json"
        latest: dict[str, Any] = json.loads(path.read_text())["checkpoint"]["latest"]
        return latest

    def leave_pending(self, stack: str, urn: str, kind: str = "creating") -> None:
        """What a CLI killed in the middle of a step leaves behind: the engine writes a pending
        operation into the checkpoint before each step and removes it after (a graceful cancel
        waits for the step, a kill does not). `stack import` cannot do this: it drops pending
        operations."""
        path = self.backend / ".pulumi" / "stacks" / PROJECT / f"{stack}.json"
        data = json.loads(path.read_text())
        resource = next(r for r in data["checkpoint"]["latest"]["resources"] if r["urn"] == urn)
        data["checkpoint"]["latest"]["pending_operations"] = [{"resource": resource, "type": kind}]
        path.write_text(json.dumps(data))

    def calls(self, command: str | None = None) -> list[list[str]]:
        """The CLI commands run so far (without `--non-interactive`), optionally only those
        starting with `command` ("up", "plugin install", ...)."""
        path = self.root / "calls.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        calls = [json.loads(line) for line in lines]
        if command is None:
            return calls
        words = command.split()
        return [c for c in calls if c[: len(words)] == words]

    def without_ambient_plugins(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """No `pulumi-resource-*` on PATH: neither the stand-in's nor a real provider's (the
        e2e toolchain's bin folder is on PATH where `.ci/run` built it)."""

        def has_plugin(folder: str) -> bool:
            try:
                return any(f.name.startswith("pulumi-resource-") for f in Path(folder).iterdir())
            except OSError:
                return False

        path = os.pathsep.join(
            p
            for p in os.environ["PATH"].split(os.pathsep)
            if not p.endswith("plugins-bin") and not has_plugin(p)
        )
        monkeypatch.setenv("PATH", path)

    def locks(self) -> list[Path]:
        folder = self.backend / ".pulumi" / "locks"
        return sorted(folder.rglob("*.json")) if folder.exists() else []

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


def ambient_plugins(folder: Path) -> Path:
    """Executables named like the provider plugins, for the CLI's PATH lookup."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("kubernetes", "aws"):
        plugin = folder / f"pulumi-resource-{name}"
        plugin.write_text("#!/bin/sh\nexit 0\n")
        plugin.chmod(0o755)
    return folder


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Standin:
    plugins = ambient_plugins(tmp_path / "plugins-bin")
    env = {
        "PATH": os.pathsep.join([str(STANDIN), str(plugins), os.environ["PATH"]]),
        "DSENV_HOME": str(tmp_path / "home"),
        "DSENV_BACKEND": f"file://{tmp_path / 'state'}",
        "DSENV_STANDIN_SCENARIO": str(tmp_path / "scenario"),
        "DSENV_STANDIN_PYTHON": sys.executable,
        "DSENV_STANDIN_CALLS": str(tmp_path / "calls.jsonl"),
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
        "PULUMI_CONFIG_PASSPHRASE": "test-only",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in (
        "PULUMI_IGNORE_AMBIENT_PLUGINS",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION",
        "DSENV_STANDIN_VERSION",
    ):
        monkeypatch.delenv(key, raising=False)
    return Standin(tmp_path, env)


@pytest.fixture
def engine(standin: Standin) -> Any:
    from dsenv.live.engine import Engine, RetryPolicy
    from dsenv.live.pulumicli import find_pulumi
    from dsenv.live.settings import resolve_settings

    return Engine(resolve_settings(), find_pulumi(), RetryPolicy(sleep=lambda _: None))
