"""Turn validation errors into `file:line:col: key.path: message` problems."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from dsenv.errors import Position, Problem
from dsenv.profile.yamlnodes import KeyPath, Node


class Locator:
    """Finds the source position of a key path in a (merged) profile tree."""

    def __init__(self, root: Node) -> None:
        self.root = root
        self.index: dict[KeyPath, Node] = dict(root.walk())

    def node(self, path: KeyPath) -> Node:
        while path not in self.index:
            path = path[:-1]
        return self.index[path]

    def value_pos(self, path: KeyPath) -> Position:
        return self.node(path).pos

    def key_pos(self, path: KeyPath) -> Position:
        node = self.index.get(path)
        if node is not None and node.key_pos is not None:
            return node.key_pos
        return self.value_pos(path)

    def problem(self, path: KeyPath, message: str, *, at_key: bool = False) -> Problem:
        pos = self.key_pos(path) if at_key else self.value_pos(path)
        return Problem(pos, message, dotted(path))


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def from_validation_error(
    exc: ValidationError, model: type[BaseModel], loc: Locator
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[KeyPath, str]] = set()
    for err in exc.errors(include_url=False):
        path = tuple(p for p in err["loc"] if isinstance(p, str | int))
        kind = err["type"]
        on_key = path[-1:] == ("[key]",)  # pydantic's marker for a bad mapping key
        if on_key:
            path = path[:-1]
        if kind == "extra_forbidden":
            key = str(path[-1])
            known = _fields_at(model, path[:-1])
            message = f"unknown key {key!r}"
            guess = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            if guess:
                message += f"; did you mean {guess[0]!r}?"
            elif known:
                message += f"; expected one of: {', '.join(sorted(known))}"
            problem = loc.problem(path, message, at_key=True)
        elif kind == "missing":
            problem = Problem(
                loc.value_pos(path[:-1]), f"missing required key {path[-1]!r}", dotted(path)
            )
        else:
            message = (
                str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
            )
            if kind == "literal_error":
                message = _literal_message(err, loc, path, message)
            elif kind in ("model_type", "dict_type") and isinstance(
                err.get("input"), list | str | int | float | bool
            ):
                message = f"expected a mapping of keys, got {_kind(err.get('input'))}"
            elif kind == "list_type":
                message = f"expected a list, got {_kind(err.get('input'))}"
            elif kind in _EXPECTED:
                message = f"expected {_EXPECTED[kind]}, got {_kind(err.get('input'))}"
            problem = loc.problem(path, message, at_key=on_key)
        marker = (path, problem.message)
        if marker not in seen:
            seen.add(marker)
            problems.append(problem)
    return problems


#: Type errors whose pydantic message does not say what was written instead.
_EXPECTED = {
    "bool_type": "true or false",
    "int_type": "a whole number",
    "float_type": "a number",
    "string_type": "a string",
}


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _literal_message(err: Any, loc: Locator, path: KeyPath, message: str) -> str:
    expected = str(err.get("ctx", {}).get("expected", ""))
    options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
    given = err.get("input")
    if isinstance(given, str):
        guess = difflib.get_close_matches(given, options, n=1, cutoff=0.6)
        text = f"{given!r} is not one of {', '.join(repr(o) for o in options)}"
        return text + (f"; did you mean {guess[0]!r}?" if guess else "")
    return message


def _fields_at(model: type[BaseModel], path: KeyPath) -> list[str]:
    """Names of the keys allowed at `path` inside `model` (for "did you mean")."""
    annotation: Any = model
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        elif get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    if get_origin(annotation) is dict:
        key_type = get_args(annotation)[0]
        if get_origin(key_type) is typing.Literal:
            return [str(a) for a in get_args(key_type)]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            annotation = options[0] if len(options) == 1 else annotation
            if len(options) != 1:
                return annotation
        else:
            return annotation
