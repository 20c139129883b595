"""The published JSON Schema (2020-12) of Org and Team profiles."""

from __future__ import annotations

from typing import Any, Literal

from dsenv.profile.model import Org, Team

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://dsenv.dev/schema/v1/{kind}.json"


def json_schema(kind: Literal["team", "org", "any"] = "any") -> dict[str, Any]:
    if kind == "team":
        schema = Team.model_json_schema(mode="validation")
    elif kind == "org":
        schema = Org.model_json_schema(mode="validation")
    else:
        team = Team.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
        org = Org.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
        defs = {**team.pop("$defs", {}), **org.pop("$defs", {})}
        defs["Team"], defs["Org"] = team, org
        schema = {
            "title": "dsenv profile",
            "description": "A dsenv Org or Team profile (apiVersion dsenv/v1).",
            "oneOf": [{"$ref": "#/$defs/Team"}, {"$ref": "#/$defs/Org"}],
            "$defs": dict(sorted(defs.items())),
        }
    return {"$schema": DIALECT, "$id": SCHEMA_ID.format(kind=kind), **schema}
