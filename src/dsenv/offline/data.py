"""The bundled tables the offline commands read: creation times, replace triggers, prices."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dsenv.errors import UsageError


@cache
def bundled(name: str) -> dict[str, Any]:
    """A YAML table from `dsenv/data/` (read once)."""
    text = resources.files("dsenv").joinpath("data", name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise TypeError(f"dsenv/data/{name} is not a mapping")
    return data


#: A user's table (`--prices FILE`) is a few kilobytes; anything over this is a mistake.
USER_TABLE_MAX_BYTES = 1024 * 1024


def read_user_table(path: Path) -> dict[str, Any]:
    """A user-supplied YAML or JSON table (e.g. `--prices FILE`)."""
    from dsenv.files import RefusedError, read_text

    try:
        text = read_text(path, USER_TABLE_MAX_BYTES, what="tables")
    except RefusedError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping at the top level")
    return data


def check_like(
    value: Any, reference: Any, source: str, path: str = "", *, complete: bool = False
) -> None:
    """Raise a UsageError unless `value` (a user's table, or part of it) has the shape of the
    bundled `reference`: the same keys with the same kinds of values (numbers not negative).
    A key new to a table whose rows all share one shape (an instance type under `instances`)
    must have that shape too, every key of it (`complete`): it is not merged over a row."""
    where = f"{source}: {path or 'the top level'}"
    if isinstance(reference, dict):
        if not isinstance(value, dict):
            raise UsageError(f"{where} must be a mapping, not {_kind(value)}")
        missing = sorted(str(k) for k in reference if k not in value) if complete else []
        if missing:
            raise UsageError(f"{where} needs {', '.join(missing)} (a new entry is not merged)")
        rows = list(reference.values())
        row_shape = rows[0] if rows and all(_same_shape(r, rows[0]) for r in rows) else None
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if key in reference:
                check_like(item, reference[key], source, sub, complete=complete)
            elif row_shape is not None and len(rows) > 1:
                check_like(item, row_shape, source, sub, complete=True)
            else:
                known = ", ".join(sorted(map(str, reference)))
                raise UsageError(f"{source}: unknown key {sub!r}; the table has: {known}")
    elif _is_number(reference):
        if not _is_number(value):
            raise UsageError(f"{where} must be a number, not {_kind(value)}")
        if value < 0:
            raise UsageError(f"{where} must not be negative, got {value}")
    elif isinstance(reference, str) and not isinstance(value, str | int | float):
        raise UsageError(f"{where} must be text, not {_kind(value)}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_shape(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_same_shape(a[k], b[k]) for k in a)
    return _is_number(a) == _is_number(b) and isinstance(a, dict) == isinstance(b, dict)


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if _is_number(value):
        return f"the number {value}"
    return f"the text {str(value)!r}"


def deep_update(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` over `base`, mappings merged key by key."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = value
    return out
