"""EnvironmentSpec <-> JSON, exactly: `from_json(to_json(spec)) == spec` for every spec.

An ejected project (`dsenv eject`) carries its resolved spec as `spec.json` and loads it back
into the dataclasses, so the program it runs sees what `dsenv plan` saw. The decoder is driven
by the dataclasses' own type hints: a field added to the model needs no change here.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from functools import cache
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from dsenv.errors import UsageError
from dsenv.spec.model import EnvironmentSpec

#: Bumped when a change to the model cannot be read by an older dsenv.
FORMAT_VERSION = 1

T = TypeVar("T")


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
        spec: EnvironmentSpec = _decode(EnvironmentSpec, data["spec"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"not a dsenv spec: {exc}") from exc
    return spec


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


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        if value is None:
            if type(None) in get_args(tp):
                return None
            raise ValueError(f"null where {tp} is expected")
        options = [a for a in get_args(tp) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"cannot decode the union {tp}")
        return _decode(options[0], value)
    if origin is tuple:
        args = get_args(tp)
        item = args[0]  # the model only uses tuple[X, ...]
        return tuple(_decode(item, v) for v in _expect(value, list))
    if origin is dict:
        key_tp, value_tp = get_args(tp)
        return {_decode(key_tp, k): _decode(value_tp, v) for k, v in _expect(value, dict).items()}
    if origin is Literal:
        if value not in get_args(tp):
            raise ValueError(f"{value!r} is not one of {get_args(tp)}")
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        fields = _expect(value, dict)
        hints = _hints(tp)
        known = {f.name for f in dataclasses.fields(tp)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)} in {tp.__name__}")
        return tp(**{name: _decode(hints[name], v) for name, v in fields.items()})
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{value!r} is not a number")
        return value  # keep an int as written: 4000 == 4000.0 and it re-encodes the same
    if tp in (str, int, bool):
        if type(value) is not tp:
            raise ValueError(f"{value!r} is not a {tp.__name__}")
        return value
    raise TypeError(f"cannot decode {tp}")


def _expect(value: Any, kind: type[T]) -> T:
    if not isinstance(value, kind):
        raise ValueError(f"{value!r} is not a {kind.__name__}")
    return value
