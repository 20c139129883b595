"""EnvironmentSpec <-> JSON, exactly: `from_json(to_json(spec)) == spec` for every spec.

An ejected project (`dsenv eject`) carries its resolved spec as `spec.json` and loads it back
into the dataclasses, so the program it runs sees what `dsenv plan` saw. Reading it back is
the profile model layer's strict validation (`dsenv.profile.fields.validate`), which walks the
dataclasses' own type hints: a field added to the spec needs no change here.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from dsenv.errors import UsageError
from dsenv.profile.fields import ValidationError, validate
from dsenv.profile.problems import dotted
from dsenv.spec.model import EnvironmentSpec

#: Bumped when a change to the model cannot be read by an older dsenv.
FORMAT_VERSION = 1


def to_json(spec: EnvironmentSpec) -> dict[str, Any]:
    return {"format_version": FORMAT_VERSION, "spec": _encode(spec)}


def from_json(data: dict[str, Any]) -> EnvironmentSpec:
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise UsageError(
            f"spec format version {version!r} is not {FORMAT_VERSION}",
            hint="render the spec again with the dsenv version that reads it",
        )
    try:
        return validate(EnvironmentSpec, data.get("spec"))
    except ValidationError as exc:
        first = exc.issues[0]
        raise UsageError(f"not a dsenv spec: {dotted(first.path)}: {first.message}") from exc


def dumps(spec: EnvironmentSpec) -> str:
    return json.dumps(to_json(spec), indent=2, sort_keys=False) + "\n"


def loads(text: str) -> EnvironmentSpec:
    return from_json(json.loads(text))


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value
