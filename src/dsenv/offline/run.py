"""From a profile file to its resource graph: load, expand, run the program under mocks."""

from __future__ import annotations

import os
from dataclasses import dataclass

from dsenv.offline.graph import ResourceGraph, graph_from_json
from dsenv.spec.model import EnvironmentSpec

#: A saved plan of the largest example is about 0.3 MB; this leaves room for big teams.
PLAN_JSON_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Offline:
    """One profile's expansion and captured resource graph."""

    spec: EnvironmentSpec | None  # None when read back from a plan JSON file
    graph: ResourceGraph
    files: tuple[str, ...] = ()  # what was read: the profile and its extends chain, or the plan


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
        from dsenv.files import RefusedError, read_text

        try:
            data = json.loads(read_text(path, PLAN_JSON_MAX_BYTES, what="plan files"))
        except RefusedError as exc:
            raise UsageError(f"{path}: {exc}") from exc
        except ValueError as exc:
            raise UsageError(f"{path}: not a readable dsenv plan JSON file: {exc}") from exc
        if not isinstance(data, dict) or "format_version" not in data or "resources" not in data:
            raise UsageError(f"{path}: not a dsenv plan JSON file (no format_version/resources)")
        try:
            graph = graph_from_json(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsageError(
                f"{path}: not a dsenv plan JSON file: bad resource entry ({exc})"
            ) from exc
        return Offline(None, graph, (os.fspath(path),))
    from dsenv.offline.collector import collector_paused
    from dsenv.profile.load import load_team
    from dsenv.spec.expand import expand_profile

    loaded = load_team(path)
    spec = expand_profile(loaded)
    with collector_paused():  # from the SDK's import on (see collector_paused)
        from dsenv.offline.capture import capture_spec

        return Offline(spec, capture_spec(spec), loaded.files)
