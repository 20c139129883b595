"""spec.json, the frozen spec of an ejected project, round-trips exactly."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from parity_support import expanded
from testkit import TEAM_PROFILES

from dsenv.errors import UsageError
from dsenv.spec.serialize import FORMAT_VERSION, dumps, from_json, loads, to_json


@pytest.mark.parametrize("profile", TEAM_PROFILES, ids=lambda p: p.stem)
def test_every_example_spec_round_trips_exactly(profile: Path) -> None:
    spec = expanded(profile)
    text = dumps(spec)
    again = loads(text)
    assert again == spec
    assert dumps(again) == text
    # Tuples come back as tuples (the dataclasses are frozen and hashable where they were).
    assert isinstance(again.node_pools, tuple)
    assert isinstance(again.image.languages[0].packages, tuple)


def test_unknown_field_is_refused() -> None:
    data = to_json(expanded(TEAM_PROFILES[0]))
    data["spec"]["image"]["colour"] = "blue"
    with pytest.raises(UsageError, match="colour"):
        from_json(data)


def test_wrong_type_is_refused() -> None:
    data = to_json(expanded(TEAM_PROFILES[0]))
    data["spec"]["node_pools"][0]["max_size"] = "10"
    with pytest.raises(UsageError, match=r"node_pools\[0\].max_size: expected a whole number"):
        from_json(data)


def test_literal_outside_its_values_is_refused() -> None:
    data = to_json(expanded(TEAM_PROFILES[0]))
    data["spec"]["provider"] = "gcp"
    with pytest.raises(UsageError, match="gcp"):
        from_json(data)


def test_other_format_version_is_refused() -> None:
    data = json.loads(dumps(expanded(TEAM_PROFILES[0])))
    data["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(UsageError, match="format version"):
        from_json(data)


def test_a_changed_value_survives_the_round_trip() -> None:
    spec = expanded(TEAM_PROFILES[0])
    changed = dataclasses.replace(spec, budget_monthly_usd=1234.5, kube_context="ctx")
    assert loads(dumps(changed)) == changed
    assert loads(dumps(changed)) != spec
