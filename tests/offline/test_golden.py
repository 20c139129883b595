"""The plan of every example profile is stable: it matches the reviewed golden file.

Regenerate after an intended change, then review the diff by hand:

    DSENV_UPDATE_GOLDEN=1 pytest tests/offline/test_golden.py
"""

from __future__ import annotations

import json
import os

import pytest
from offline_kit import EXAMPLES, GOLDEN, PROFILES, example

from dsenv.offline.plan import build_plan, render_json
from dsenv.offline.run import offline

UPDATE = os.environ.get("DSENV_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("name", EXAMPLES)
def test_plan_matches_the_golden_file(name: str) -> None:
    env = example(name)
    text = render_json(build_plan(env.graph, env.spec))
    golden = GOLDEN / f"{name}.plan.json"
    if UPDATE:
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), (
        f"no golden plan for {name}; run DSENV_UPDATE_GOLDEN=1 pytest {__file__}"
    )
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert json.loads(text) == expected, (
        f"plan of {name} changed; review and regenerate the golden file"
    )


@pytest.mark.slow
def test_two_captures_of_a_profile_give_byte_identical_plans() -> None:
    first = offline(PROFILES / "fraud.yaml")
    second = offline(PROFILES / "fraud.yaml")
    assert render_json(build_plan(first.graph, first.spec)) == render_json(
        build_plan(second.graph, second.spec)
    )
