"""The capability registry is the one list of capabilities: the profile model, the
components and the live commands all agree with it."""

from __future__ import annotations

from typing import Any

import pytest
from testkit import PROFILES, graph_of
from typer.testing import CliRunner

from dsenv import capabilities
from dsenv.cli.app import app
from dsenv.errors import DsenvError
from dsenv.profile.model import DEFAULTS_KEYS, Team


def test_every_section_of_the_registry_is_a_team_section_an_org_may_default() -> None:
    assert set(capabilities.SECTIONS) <= set(Team.__fields__)
    assert set(capabilities.SECTIONS) <= set(DEFAULTS_KEYS)


@pytest.mark.parametrize("profile", ["fraud", "vision", "sandbox"])
def test_every_component_of_the_program_belongs_to_a_registered_capability(profile: str) -> None:
    graph = graph_of(profile)
    components = [r for r in graph if r.type.startswith("dsenv:")]
    assert components
    for component in components:
        assert component.type.split(":")[1] in capabilities.NAMES, component.type
    assert {r.capability for r in graph} <= set(capabilities.NAMES)


def test_capability_of_reads_the_outermost_component_from_the_urn() -> None:
    urn = "urn:pulumi:s::dsenv::dsenv:cluster:Cluster$aws:eks/nodeGroup:NodeGroup::small"
    assert capabilities.capability_of(urn) == "cluster"
    assert (
        capabilities.component_area("urn:pulumi:s::dsenv::pulumi:providers:kubernetes::team")
        is None
    )
    assert (
        capabilities.capability_of("urn:pulumi:s::dsenv::pulumi:providers:kubernetes::team")
        == "base"
    )


def test_component_types_can_only_name_registered_capabilities() -> None:
    assert capabilities.component_type("kafka", "Msk") == "dsenv:kafka:Msk"
    with pytest.raises(ValueError, match="not a registered capability"):
        capabilities.component_type("registry", "Ecr")


def _fail(*_: Any, **__: Any) -> Any:
    raise AssertionError("nothing may run before --only is checked")


@pytest.mark.parametrize("command", ["preview", "up", "destroy"])
def test_only_with_an_unknown_capability_exits_2_before_anything_runs(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsenv.cli.commands import live

    for name in ("_engine", "_spec"):
        if hasattr(live, name):
            monkeypatch.setattr(live, name, _fail)
    yes = [] if command == "preview" else ["--yes"]
    result = CliRunner().invoke(
        app, [command, str(PROFILES / "fraud.yaml"), "--only", "kafak", *yes]
    )
    assert isinstance(result.exception, DsenvError), result.output
    assert int(result.exception.exit_code) == 2
    message = result.exception.render()
    assert "'kafak' is not a capability; did you mean 'kafka'?" in message
    assert ", ".join(capabilities.NAMES) in message
