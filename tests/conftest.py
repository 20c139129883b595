"""Shared fixtures: where the example profiles and the upstream reference data are."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "profiles"
#: Upstream charts and CRDs, read in place from the shared folder beside the repository.
UPSTREAM = ROOT.parent / "shared" / "upstream"
TEAM_PROFILES = sorted(p for p in PROFILES.glob("*.yaml"))


@pytest.fixture
def upstream() -> Path:
    if not UPSTREAM.is_dir():
        pytest.skip(
            f"upstream reference data not found at {UPSTREAM} (../shared/upstream beside the repository)"
        )
    return UPSTREAM
