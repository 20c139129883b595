"""Fixtures of the laptop-parity tests: expanded example profiles and the external linters."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import testkit

from dsenv.profile.load import load_team
from dsenv.spec.expand import expand_profile
from dsenv.spec.model import EnvironmentSpec


@cache
def expanded(profile: Path) -> EnvironmentSpec:
    return expand_profile(load_team(profile))


def tool(name: str, package: str) -> str:
    """A linter binary from the test environment (see `conftest.tool`)."""
    return testkit.tool(name, f"pip install {package}")
