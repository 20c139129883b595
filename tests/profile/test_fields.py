"""The profile model layer (`dsenv.profile.fields`) on small models of its own: strict types,
every problem at once with its key path, limits, literals, and the JSON Schema it publishes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

import pytest
from jsonschema import Draft202012Validator

from dsenv.profile.fields import (
    Field,
    Issue,
    Limits,
    Model,
    Scalar,
    ValidationError,
    json_schema,
    to_data,
    validate,
)


def _even(value: object) -> object:
    if not isinstance(value, int) or isinstance(value, bool) or value % 2:
        raise ValueError(f"{value!r} is not an even number")
    return value


Even = Annotated[int, Scalar(_even, {"type": "integer", "multipleOf": 2})]


class Part(Model):
    """A part."""

    size: Even = Field(description="Size.")
    label: str | None = Field(default=None, description="Label.")


class Box(Model):
    """A box of parts."""

    name: Annotated[str, Limits(pattern=r"^[a-z]+$")] = Field(description="Name.")
    count: int = Field(default=1, gt=0, le=10, description="How many.")
    weight: float = Field(default=1.0, description="Weight.")
    fragile: bool = Field(default=False, description="Fragile.")
    colour: Literal["red", "green"] = Field(default="red", description="Colour.")
    parts: dict[str, Part] = Field(default_factory=dict, min_length=1, description="Parts.")
    tags: list[str] = Field(default_factory=list, description="Tags.")

    def check(self) -> Iterator[tuple[str, str]]:
        if self.fragile and self.count > 5:
            yield "count", "fragile boxes come at most 5 to a stack"


def _issues(data: object) -> list[Issue]:
    with pytest.raises(ValidationError) as caught:
        validate(Box, data)
    return caught.value.issues


def test_valid_data_becomes_an_immutable_model_with_defaults() -> None:
    box = validate(Box, {"name": "a", "parts": {"p": {"size": 2}}, "weight": 3})
    assert box == Box(name="a", parts={"p": Part(size=2)}, weight=3)
    assert (box.count, box.colour, box.tags, box.parts["p"].label) == (1, "red", [], None)
    with pytest.raises(AttributeError):
        box.name = "b"  # type: ignore[misc]
    assert to_data(box) == {
        "name": "a",
        "count": 1,
        "weight": 3,
        "fragile": False,
        "colour": "red",
        "parts": {"p": {"size": 2}},
        "tags": [],
    }


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    issues = _issues(
        {
            "name": "A",
            "count": "3",
            "fragile": "yes",
            "colour": "gren",
            "parts": {"p": {"size": 3, "lable": "x"}, "q": {}},
            "tags": "t",
            "extra": 1,
        }
    )
    assert {(i.path, i.where): i.message for i in issues} == {
        (("extra",), "key"): "unknown key 'extra'; expected one of: colour, count, fragile, "
        "name, parts, tags, weight",
        (("name",), "value"): "'A' does not match the pattern ^[a-z]+$",
        (("count",), "value"): "expected a whole number, got the text '3'",
        (("fragile",), "value"): "expected true or false, got the text 'yes'",
        (("colour",), "value"): "'gren' is not one of 'red', 'green'; did you mean 'green'?",
        (("parts", "p", "lable"), "key"): "unknown key 'lable'; did you mean 'label'?",
        (("parts", "p", "size"), "value"): "3 is not an even number",
        (("parts", "q", "size"), "missing"): "missing required key 'size'",
        (("tags",), "value"): "expected a list, got the text 't'",
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"count": 0}, "must be greater than 0, got 0"),
        ({"count": 11}, "must be at most 10, got 11"),
        ({"count": True}, "expected a whole number, got the boolean true"),
        ({"count": 2.5}, "expected a whole number, got the number 2.5"),
        ({"weight": False}, "expected a number, got the boolean false"),
        ({"parts": {}}, "needs at least 1 item, got 0"),
        ({"colour": 3}, "expected one of 'red', 'green', got the number 3"),
        ({"fragile": True, "count": 6}, "fragile boxes come at most 5 to a stack"),
    ],
)
def test_types_are_strict_and_limits_hold(data: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"name": "a", "parts": {"p": {"size": 2}}}
    assert [i.message for i in _issues({**base, **data})] == [message]


def test_a_model_rule_runs_only_once_its_fields_are_valid() -> None:
    issues = _issues({"name": "a", "parts": {"p": {"size": 1}}, "fragile": True, "count": 6})
    assert [i.message for i in issues] == ["1 is not an even number"]


def test_the_json_schema_is_valid_and_agrees_with_validation() -> None:
    defs = json_schema((Box,), "#/$defs/")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": "#/$defs/Box"}
    schema["$defs"] = defs
    Draft202012Validator.check_schema(schema)
    assert set(defs) == {"Box", "Part"}
    assert defs["Box"]["required"] == ["name"]
    assert defs["Box"]["properties"]["count"] == {
        "type": "integer",
        "exclusiveMinimum": 0,
        "maximum": 10,
        "description": "How many.",
        "default": 1,
    }
    checker = Draft202012Validator(schema)
    good = {"name": "a", "parts": {"p": {"size": 2}}}
    assert list(checker.iter_errors(good)) == []
    for bad in ({**good, "count": 0}, {**good, "extra": 1}, {**good, "parts": {"p": {"size": 3}}}):
        assert list(checker.iter_errors(bad)), bad
        with pytest.raises(ValidationError):
            validate(Box, bad)


def test_a_field_must_be_declared_with_field() -> None:
    with pytest.raises(TypeError, match="must be declared with Field"):

        class Bad(Model):
            size: int = 3
