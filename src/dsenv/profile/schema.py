"""The published JSON Schema (2020-12) of Org and Team profiles.

The schema checks one file as an editor sees it, before inheritance. A file that `extends`
another may leave out anything it inherits (a team's `target`, or a tier's `cpu` overridden
only in `max_nodes`), so such a file is checked against a "Partial" copy of the definitions
with nothing required but apiVersion, kind and name. `dsenv validate` checks the merged result.
"""

from __future__ import annotations

from typing import Any, Literal

from dsenv.profile.fields import Model
from dsenv.profile.fields import json_schema as model_schemas
from dsenv.profile.model import Org, Team

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://dsenv.dev/schema/v1/{kind}.json"
_OWN_KEYS = ("apiVersion", "kind", "name")
_REF = "#/$defs/"


def json_schema(kind: Literal["team", "org", "any"] = "any") -> dict[str, Any]:
    choices: dict[str, tuple[type[Model], ...]] = {"team": (Team,), "org": (Org,)}
    models = choices.get(kind, (Team, Org))
    defs = model_schemas(models, _REF)
    defs.update({f"{name}Partial": _partial(schema) for name, schema in list(defs.items())})
    for model in models:
        root = defs[f"{model.__name__}Partial"]
        root["required"] = [k for k in defs[model.__name__].get("required", []) if k in _OWN_KEYS]
    documents = [_document(model.__name__) for model in models]
    if len(models) == 1:
        head = {
            k: defs[models[0].__name__][k]
            for k in ("title", "description")
            if k in defs[models[0].__name__]
        }
        body: dict[str, Any] = {**head, **documents[0]}
    else:
        body = {
            "title": "dsenv profile",
            "description": "A dsenv Org or Team profile (apiVersion dsenv/v1).",
            "oneOf": documents,
        }
    return {
        "$schema": DIALECT,
        "$id": SCHEMA_ID.format(kind=kind),
        **body,
        "$defs": dict(sorted(defs.items())),
    }


def _document(name: str) -> dict[str, Any]:
    return {
        "if": {"required": ["extends"]},
        "then": {"$ref": f"{_REF}{name}Partial"},
        "else": {"$ref": f"{_REF}{name}"},
    }


def _partial(schema: Any) -> Any:
    """A copy of a definition with no required keys and references to Partial definitions."""
    if isinstance(schema, list):
        return [_partial(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "required" and isinstance(value, list) and "properties" in schema:
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith(_REF):
            out[key] = f"{value}Partial"
        elif key == "properties" and isinstance(value, dict):
            out[key] = {prop: _partial(sub) for prop, sub in value.items()}
        else:
            out[key] = _partial(value)
    return out
