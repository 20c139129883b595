"""The profile language's model layer: declared once, validated strictly, published as a schema.

A model is a frozen, keyword-only dataclass (subclass `Model`) whose fields say their
description, default and limits through `Field`. `validate(Model, data)` checks plain data
read from YAML and reports every problem at once, each with its key path: a string is never
taken for a number or a boolean, unknown keys are refused with a "did you mean", and a scalar
type may carry its own check (`Scalar`, for `8Gi` or `30m`). `json_schema(models)` publishes
the same declarations as JSON Schema 2020-12.

It is dsenv's own small layer, not a general one: the types profiles use (str, int, float,
bool, Literal, optional, list, dict, nested models) and nothing else. Being plain dataclasses
and a few functions, it is built on import in about a millisecond, which keeps `dsenv
validate` quick (bench/README.md).
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union, dataclass_transform

KeyPath = tuple[str | int, ...]
T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """Bounds of a number, length of a string, list or mapping, and a string's pattern."""

    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None

    def problems(self, value: Any) -> Iterator[str]:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.gt is not None and not value > self.gt:
                yield f"must be greater than {_number(self.gt)}, got {_number(value)}"
            if self.ge is not None and not value >= self.ge:
                yield f"must be at least {_number(self.ge)}, got {_number(value)}"
            if self.le is not None and not value <= self.le:
                yield f"must be at most {_number(self.le)}, got {_number(value)}"
        if isinstance(value, list | dict | str):
            what = "character" if isinstance(value, str) else "item"
            if self.min_length is not None and len(value) < self.min_length:
                yield f"needs at least {_count(self.min_length, what)}, got {len(value)}"
            if self.max_length is not None and len(value) > self.max_length:
                yield f"may have at most {_count(self.max_length, what)}, got {len(value)}"
        if isinstance(value, str) and self.pattern and not re.search(self.pattern, value):
            yield f"{value!r} does not match the pattern {self.pattern}"

    def schema(self, json_type: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.gt is not None:
            out["exclusiveMinimum"] = self.gt
        if self.ge is not None:
            out["minimum"] = self.ge
        if self.le is not None:
            out["maximum"] = self.le
        sizes = {"string": "Length", "array": "Items", "object": "Properties"}
        suffix = sizes.get(json_type or "", "Length")
        if self.min_length is not None:
            out[f"min{suffix}"] = self.min_length
        if self.max_length is not None:
            out[f"max{suffix}"] = self.max_length
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out


@dataclass(frozen=True, eq=False)  # hashed by identity: typing hashes Annotated metadata
class Scalar:
    """An `Annotated` marker for a scalar with its own check: `check(value)` returns the value
    or raises ValueError with the user-facing message; `schema` is its JSON Schema."""

    check: Callable[[object], object]
    schema: Mapping[str, Any]


_MISSING: Any = object()


@dataclass(frozen=True, eq=False)
class FieldInfo:
    """A model field as declared: set on the class by `Field`, named by `Model`."""

    description: str
    default: Any
    default_factory: Callable[[], Any] | None
    limits: Limits
    name: str = ""

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.default_factory is None

    def default_value(self) -> Any:
        return self.default_factory() if self.default_factory is not None else self.default


def Field(  # noqa: N802 - reads as the declaration it is, like dataclasses.field
    *,
    description: str,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
) -> Any:
    """A described model field, with its default and limits."""
    limits = Limits(gt, ge, le, min_length, max_length, pattern)
    return FieldInfo(description, default, default_factory, limits)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(Field,))
class Model:
    """Base of profile models: immutable, built from keyword arguments, compared by value.

    Each field is an annotated class attribute set to `Field(...)`. A model may define
    `check(self)`, yielding `(field, message)` for rules between its fields; it runs once
    every field is valid. (Plain generic methods rather than generated dataclass code: the
    twenty profile models are defined in well under a millisecond.)
    """

    __fields__: ClassVar[dict[str, FieldInfo]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = dict(cls.__fields__)
        for name in inspect.get_annotations(cls):
            info = cls.__dict__.get(name)
            if not isinstance(info, FieldInfo):
                raise TypeError(f"{cls.__name__}.{name} must be declared with Field(...)")
            fields[name] = dataclasses.replace(info, name=name)
            delattr(cls, name)  # instances hold the values
        cls.__fields__ = fields

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(self.__fields__)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no fields {sorted(unknown)}")
        for name, info in self.__fields__.items():
            if name in values:
                value = values[name]
            elif info.required:
                raise TypeError(f"{type(self).__name__} needs {name}")
            else:
                value = info.default_value()
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__fields__)

    __hash__ = None  # type: ignore[assignment]  # lists and mappings inside: not hashable

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__fields__)
        return f"{type(self).__name__}({inner})"

    def check(self) -> Iterator[tuple[str, str]]:
        return iter(())


@dataclass(frozen=True)
class Issue:
    """One validation problem. `where`: the value at `path`, its key, or (missing) the
    mapping that lacks the key `path[-1]`."""

    path: KeyPath
    message: str
    where: Literal["value", "key", "missing"] = "value"


class ValidationError(Exception):
    """Raised by `validate`, with every issue found."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(f"{len(issues)} problems")
        self.issues = issues


def validate(model: type[T], data: Any) -> T:
    """`data` (plain YAML or JSON values) as a `model` instance (a Model, or a plain dataclass
    of the types above), or ValidationError naming every problem."""
    issues: list[Issue] = []
    result = _Validator(issues).value(model, data, ())
    if issues:
        raise ValidationError(issues)
    assert isinstance(result, model)
    return result


def to_data(value: Any) -> Any:
    """A model instance as plain JSON-able data, leaving out unset (None) values."""
    if isinstance(value, Model):
        return {
            name: to_data(getattr(value, name))
            for name in value.__fields__
            if getattr(value, name) is not None
        }
    if isinstance(value, dict):
        return {k: to_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_data(v) for v in value]
    return value


# ---- validation -------------------------------------------------------------------------------


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(model: type) -> dict[str, Any]:
    hints = _HINTS.get(model)
    if hints is None:
        hints = _HINTS[model] = typing.get_type_hints(model, include_extras=True)
    return hints


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Model)


class _Validator:
    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues

    def fail(self, path: KeyPath, message: str, where: Any = "value") -> None:
        self.issues.append(Issue(path, message, where))

    def value(self, annotation: Any, value: Any, path: KeyPath) -> Any:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            base, *extras = typing.get_args(annotation)
            scalar = next((e for e in extras if isinstance(e, Scalar)), None)
            if scalar is not None:
                try:
                    return scalar.check(value)
                except ValueError as exc:
                    self.fail(path, str(exc))
                    return None
            before = len(self.issues)
            result = self.value(base, value, path)
            if len(self.issues) == before:
                for limits in (e for e in extras if isinstance(e, Limits)):
                    for message in limits.problems(result):
                        self.fail(path, message)
            return result
        if origin in (Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if value is None:
                return None
            if len(options) != 1:
                raise TypeError(f"unsupported union {annotation!r}")
            return self.value(options[0], value, path)
        if origin is Literal:
            return self.literal(typing.get_args(annotation), value, path)
        if origin is list:
            if not isinstance(value, list):
                return self.fail(path, f"expected a list, got {describe(value)}")
            (item,) = typing.get_args(annotation)
            return [self.value(item, v, (*path, i)) for i, v in enumerate(value)]
        if origin is tuple:  # only tuple[X, ...], read from a list
            if not isinstance(value, list):
                return self.fail(path, f"expected a list, got {describe(value)}")
            item = typing.get_args(annotation)[0]
            return tuple(self.value(item, v, (*path, i)) for i, v in enumerate(value))
        if origin is dict:
            if not isinstance(value, dict):
                return self.fail(path, f"expected a mapping of keys, got {describe(value)}")
            key_type, item = typing.get_args(annotation)
            return self.mapping(key_type, item, value, path)
        if _is_model(annotation):
            return self.model(annotation, value, path)
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            return self.dataclass(annotation, value, path)
        return self.plain(annotation, value, path)

    def plain(self, annotation: Any, value: Any, path: KeyPath) -> Any:
        if annotation is object:
            return value
        if annotation is str:
            ok, expected = isinstance(value, str), "a string"
        elif annotation is bool:
            ok, expected = isinstance(value, bool), "true or false"
        elif annotation is int:
            ok, expected = isinstance(value, int) and not isinstance(value, bool), "a whole number"
        elif annotation is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            expected = "a number"
        else:
            raise TypeError(f"unsupported field type {annotation!r}")
        if not ok:
            return self.fail(path, f"expected {expected}, got {describe(value)}")
        return value

    def literal(self, options: tuple[Any, ...], value: Any, path: KeyPath) -> Any:
        if any(type(value) is type(o) and value == o for o in options):
            return value
        listed = ", ".join(repr(o) for o in options)
        if isinstance(value, str):
            message = f"{value!r} is not one of {listed}"
            guess = difflib.get_close_matches(value, [str(o) for o in options], n=1, cutoff=0.6)
            self.fail(path, message + (f"; did you mean {guess[0]!r}?" if guess else ""))
        else:
            self.fail(path, f"expected one of {listed}, got {describe(value)}")
        return None

    def mapping(
        self, key_type: Any, item: Any, value: dict[Any, Any], path: KeyPath
    ) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, sub in value.items():
            if typing.get_origin(key_type) is Literal:
                known = [str(o) for o in typing.get_args(key_type)]
                if key not in known:
                    self.unknown_key(str(key), known, (*path, key))
                    continue
            else:
                before = len(self.issues)
                self.value(key_type, key, (*path, key))
                for i in range(before, len(self.issues)):  # a bad key is reported at the key
                    self.issues[i] = dataclasses.replace(self.issues[i], where="key")
            out[key] = self.value(item, sub, (*path, key))
        return out

    def unknown_key(self, key: str, known: list[str], path: KeyPath) -> None:
        message = f"unknown key {key!r}"
        guess = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if guess:
            message += f"; did you mean {guess[0]!r}?"
        elif known:
            message += f"; expected one of: {', '.join(sorted(known))}"
        self.fail(path, message, "key")

    def model(self, model: type[Model], value: Any, path: KeyPath) -> Any:
        fields = {n: (f.required, f.limits) for n, f in model.__fields__.items()}
        kwargs = self.record(model, fields, value, path)
        if kwargs is None:
            return None
        instance = model(**kwargs)
        for name, message in instance.check():
            self.fail((*path, name), message)
        return instance

    def dataclass(self, cls: type, value: Any, path: KeyPath) -> Any:
        """A plain dataclass (the expanded spec read back from JSON): every field without a
        default is required, no other key is allowed."""
        missing, none = dataclasses.MISSING, Limits()
        fields = {
            f.name: (f.default is missing and f.default_factory is missing, none)
            for f in dataclasses.fields(cls)
        }
        kwargs = self.record(cls, fields, value, path)
        return cls(**kwargs) if kwargs is not None else None

    def record(
        self, cls: type, fields: dict[str, tuple[bool, Limits]], value: Any, path: KeyPath
    ) -> dict[str, Any] | None:
        """The keyword arguments of a record type (`fields`: name -> required, limits) read
        from a mapping; None when anything in it is wrong."""
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping of keys, got {describe(value)}")
            return None
        hints = _hints(cls)
        for key in value:
            if key not in fields:
                self.unknown_key(str(key), list(fields), (*path, key))
        before = len(self.issues)
        kwargs: dict[str, Any] = {}
        for name, (required, limits) in fields.items():
            if name in value:
                start = len(self.issues)
                result = self.value(hints[name], value[name], (*path, name))
                if len(self.issues) == start:
                    for message in limits.problems(result):
                        self.fail((*path, name), message)
                kwargs[name] = result
            elif required:
                self.fail((*path, name), f"missing required key {name!r}", "missing")
        return kwargs if len(self.issues) == before else None


def describe(value: Any) -> str:
    """What a user wrote, for "expected X, got Y" messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {_number(value)}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _number(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# ---- JSON Schema ------------------------------------------------------------------------------


def json_schema(models: tuple[type[Model], ...], ref_prefix: str) -> dict[str, Any]:
    """Definitions of `models` and every model they use, by class name, referring to each
    other as `ref_prefix + name`."""
    defs: dict[str, Any] = {}
    pending = list(models)
    while pending:
        model = pending.pop()
        if model.__name__ in defs:
            continue
        defs[model.__name__] = {}  # claimed before recursing
        defs[model.__name__] = _model_schema(model, ref_prefix, pending)
    return defs


def _model_schema(model: type[Model], ref_prefix: str, pending: list[type[Model]]) -> Any:
    hints = _hints(model)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, field in model.__fields__.items():
        schema = _type_schema(hints[name], ref_prefix, pending)
        schema.update(field.limits.schema(schema.get("type")))
        schema["description"] = field.description
        if field.required:
            required.append(name)
        else:
            schema["default"] = to_data(field.default_value())
        properties[name] = schema
    out: dict[str, Any] = {"type": "object", "title": model.__name__}
    if model.__doc__ and model.__doc__ != Model.__doc__:
        out["description"] = " ".join(model.__doc__.split())
    out.update(properties=properties, additionalProperties=False)
    if required:
        out["required"] = required
    return out


def _type_schema(annotation: Any, ref_prefix: str, pending: list[type[Model]]) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *extras = typing.get_args(annotation)
        scalar = next((e for e in extras if isinstance(e, Scalar)), None)
        if scalar is not None:
            return dict(scalar.schema)
        constrained = _type_schema(base, ref_prefix, pending)
        for limits in (e for e in extras if isinstance(e, Limits)):
            constrained.update(limits.schema(constrained.get("type")))
        return constrained
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return {"anyOf": [_type_schema(options[0], ref_prefix, pending), {"type": "null"}]}
    if origin is Literal:
        values = list(typing.get_args(annotation))
        return {"enum": values, "type": "string"} if len(values) > 1 else {"const": values[0]}
    if origin is list:
        (item,) = typing.get_args(annotation)
        return {"type": "array", "items": _type_schema(item, ref_prefix, pending)}
    if origin is dict:
        key_type, item = typing.get_args(annotation)
        schema: dict[str, Any] = {
            "type": "object",
            "additionalProperties": _type_schema(item, ref_prefix, pending),
        }
        if key_type is not str:
            schema["propertyNames"] = _type_schema(key_type, ref_prefix, pending)
        return schema
    if _is_model(annotation):
        pending.append(annotation)
        return {"$ref": ref_prefix + annotation.__name__}
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
    if annotation is object:
        return {}
    return {"type": simple[annotation]}
