"""`dsenv ci init`: CI workflows rendered from templates/ci/ through the one Writer.

`write_workflows` takes (template, output path) pairs so further workflows (an image build,
say) join by adding a pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsenv.errors import UsageError
from dsenv.live.pulumicli import PINNED_VERSION
from dsenv.templating import render
from dsenv.writer import Writer

PROVIDERS = ("github", "gitlab")


@dataclass(frozen=True)
class DriftWorkflow:
    profiles_dir: str = "profiles"
    schedule: str = "17 3 * * *"  # nightly, off the hour
    shards: int = 4
    concurrency: int = 4
    aws_role_arn: str = "arn:aws:iam::123456789012:role/dsenv-drift"
    aws_region: str = "eu-west-1"
    backend: str = "s3://acme-dsenv-state"
    python_version: str = "3.12"
    pulumi_version: str = PINNED_VERSION

    def context(self) -> dict[str, Any]:
        return {**self.__dict__, "shard_list": list(range(1, self.shards + 1))}


def drift_workflow(provider: str) -> tuple[str, str]:
    """(template, output path) of the nightly drift workflow for a CI provider."""
    if provider == "github":
        return "ci/github-drift.yml.j2", ".github/workflows/dsenv-drift.yml"
    if provider == "gitlab":
        return "ci/gitlab-drift.yml.j2", ".gitlab/dsenv-drift.yml"
    raise UsageError(f"--provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")


def write_workflows(
    writer: Writer, workflows: Sequence[tuple[str, str]], **context: Any
) -> list[Path]:
    return [writer.write(output, render(template, **context)) for template, output in workflows]
