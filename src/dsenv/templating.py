"""The one Jinja2 environment: templates come from `dsenv.templates`, undefined is an error."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dsenv.templates", "."),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["tojson"] = lambda value, indent=None: json.dumps(value, indent=indent)
    env.filters["yaml_str"] = lambda value: json.dumps(str(value))  # a JSON string is valid YAML
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
