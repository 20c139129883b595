"""Fixtures of the laptop-parity tests: expanded example profiles and the external linters."""

from __future__ import annotations

import shutil
import sys
from functools import cache
from pathlib import Path

import pytest

from dsenv.profile.load import load_team
from dsenv.spec.expand import expand_profile
from dsenv.spec.model import EnvironmentSpec


@cache
def expanded(profile: Path) -> EnvironmentSpec:
    return expand_profile(load_team(profile))


def tool(name: str, package: str) -> str:
    """A linter binary from the test environment (beside this Python, or on PATH)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install {package})")
    return found
