"""From a profile file to its resource graph: load, expand, run the program under mocks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dsenv.offline.graph import ResourceGraph, graph_from_json
from dsenv.spec.model import EnvironmentSpec


@dataclass(frozen=True)
class Offline:
    """One profile's expansion and captured resource graph."""

    spec: EnvironmentSpec | None  # None when read back from a plan JSON file
    graph: ResourceGraph


def spec_for(path: str | os.PathLike[str]) -> EnvironmentSpec:
    from dsenv.profile.load import load_team
    from dsenv.spec.expand import expand_profile

    return expand_profile(load_team(path))


def offline(path: str | os.PathLike[str]) -> Offline:
    """The graph of a team profile; a `dsenv plan --format json` file is read back as is,
    so `diff` and `check` also work on saved plans."""
    if str(path).endswith(".json"):
        import json

        from dsenv.errors import UsageError

        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path}: not a readable dsenv plan JSON file: {exc}") from exc
        if not isinstance(data, dict) or "format_version" not in data or "resources" not in data:
            raise UsageError(f"{path}: not a dsenv plan JSON file (no format_version/resources)")
        return Offline(None, graph_from_json(data))
    from dsenv.offline.collector import collector_paused

    spec = spec_for(path)
    with collector_paused():  # from the SDK's import on (see collector_paused)
        from dsenv.offline.capture import capture_spec

        return Offline(spec, capture_spec(spec))
