"""Shared fixtures (plain helpers live in testkit.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit import UPSTREAM


@pytest.fixture
def upstream() -> Path:
    if not UPSTREAM.is_dir():
        pytest.skip(
            f"upstream reference data not found at {UPSTREAM} (../shared/upstream beside the repository)"
        )
    return UPSTREAM


def pytest_report_header(config: pytest.Config) -> list[str]:
    """The real engine and control plane the end-to-end tests run against (or why they skip)."""
    from testkit import e2e_missing, e2e_versions

    missing = e2e_missing()
    if missing:
        return [f"e2e: skipped: {missing}"]
    return ["e2e: " + ", ".join(f"{k} {v}" for k, v in e2e_versions().items())]
