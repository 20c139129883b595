"""Helpers shared by the offline tests (a uniquely named module, not a conftest: test folders
are not packages, and several conftest modules would shadow each other)."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.offline.run import Offline, offline

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "profiles"
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = sorted(p.stem for p in PROFILES.glob("*.yaml"))


@functools.cache
def example(name: str) -> Offline:
    """An example profile's spec and graph, captured once per test session."""
    return offline(PROFILES / f"{name}.yaml")


def edited(tmp_path: Path, name: str, *replacements: tuple[str, str]) -> Path:
    """A copy of an example profile (and its org) with text replaced; every old text must occur."""
    shutil.copytree(PROFILES, tmp_path / "profiles", dirs_exist_ok=True)
    path = tmp_path / "profiles" / f"{name}.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, f"{old!r} not in {name}.yaml"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def res(
    type_: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    *,
    deps: tuple[str, ...] = (),
    parent: str | None = None,
    capability: str = "base",
    custom: bool = True,
) -> Resource:
    return Resource(
        urn=f"urn:pulumi:t::dsenv::{type_}::{name}",
        type=type_,
        name=name,
        custom=custom,
        parent=parent,
        dependencies=deps,
        inputs=inputs or {},
        capability=capability,
    )


def graph(*resources: Resource) -> ResourceGraph:
    return ResourceGraph(
        stack="t", project="dsenv", resources=sorted(resources, key=lambda r: r.urn)
    )
