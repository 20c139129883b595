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
