"""Loader behaviour: YAML 1.2 scalars, the documented deep merge, org defaults, positions."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit import PROFILES

from dsenv.errors import ProfileError
from dsenv.profile.load import load_profile, load_team
from dsenv.profile.merge import deep_merge
from dsenv.profile.yamlnodes import parse_text

TIER = "tiers:\n  small: {cpu: 1, memory: 6Gi, instance_types: [m7i.large]}\n"
K8S = "target: {provider: kubernetes, context: kind-dsenv}\n"
#: a tier on target kubernetes: no EC2 keys there
K8S_TIER = "tiers:\n  small: {cpu: 2, memory: 8Gi}\n"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _team(folder: Path, body: str, name: str = "team.yaml") -> Path:
    return _write(folder, name, "apiVersion: dsenv/v1\nkind: Team\nname: t\n" + body)


def test_yaml_1_2_keeps_no_yes_on_and_dates_as_strings() -> None:
    tree = parse_text("a: NO\nb: yes\nc: on\nd: 2024-01-01\ne: 010\nf: true\ng: ~\n", "t.yaml")
    assert tree.plain() == {
        "a": "NO",
        "b": "yes",
        "c": "on",
        "d": "2024-01-01",
        "e": 10,  # YAML 1.2: a leading zero is not octal
        "f": True,
        "g": None,
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0o17", 15),
        ("0x1F", 31),
        ("-12", -12),
        ("+3", 3),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("1.30", 1.3),
        ("1_000", "1_000"),  # the core schema has no digit separators: text
        ("0b101", "0b101"),
        ("TRUE", True),
        ("False", False),
        ("tRUE", "tRUE"),
        ("NULL", None),
        ("", None),
        ("'12'", "12"),
        ('"true"', "true"),
        ("!!str 12", "12"),
        ("! 12", "12"),
        ("!!int 12", 12),
        ("!!float 2", 2.0),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    got = parse_text(f"v: {text}\n", "t.yaml").plain()["v"]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("!!int twelve", "'twelve' is not a valid !!int"),
        ("!!timestamp 2024-01-01", "tag tag:yaml.org,2002:timestamp is not allowed"),
        (".inf", ".inf is not a usable number"),
        ("1e999", "1e999 is too large a number"),
    ],
)
def test_scalars_that_are_not_plain_data_are_refused_at_their_place(
    text: str, message: str
) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_text(f"a: 1\nv: {text}\n", "t.yaml")
    (problem,) = caught.value.problems
    assert (problem.position.line, problem.position.col) == (2, 4)
    assert message in problem.message


def test_a_syntax_error_names_the_character_and_where_a_bracket_was_opened() -> None:
    with pytest.raises(ProfileError) as caught:
        parse_text("a: {b: 1,\nc: 2\n", "t.yaml")
    (problem,) = caught.value.problems
    assert (problem.position.line, problem.position.col) == (1, 4)
    assert "never closed" in problem.message
    with pytest.raises(ProfileError) as caught:
        parse_text("a: @x\n", "t.yaml")
    assert "found character '@' that cannot start any token" in caught.value.problems[0].message


def test_country_code_no_survives_into_the_team_tags(tmp_path: Path) -> None:
    loaded = load_team(_team(tmp_path, K8S + K8S_TIER + "tags: {country: NO, audited: yes}\n"))
    assert loaded.team.tags == {"country": "NO", "audited": "yes"}


def test_every_value_keeps_its_source_position() -> None:
    tree = parse_text("a:\n  b: [x, {c: 1}]\n", "f.yaml")
    positions = {path: str(node.pos) for path, node in tree.walk()}
    assert positions[("a", "b", 0)] == "f.yaml:2:7"
    assert positions[("a", "b", 1, "c")] == "f.yaml:2:14"


def test_duplicate_key_error_names_both_lines() -> None:
    with pytest.raises(ProfileError) as info:
        parse_text("a: 1\nb: 2\na: 3\n", "d.yaml")
    (problem,) = info.value.problems
    assert str(problem.position) == "d.yaml:3:1"
    assert "line 3" in problem.message and "line 1" in problem.message


def test_deep_merge_merges_mappings_replaces_lists_and_null_removes() -> None:
    base = parse_text("m: {a: 1, b: {x: 1, y: 2}}\nl: [1, 2, 3]\ngone: {k: v}\nkeep: 1\n", "b.yaml")
    over = parse_text("m: {b: {y: 20, z: 30}, c: 3}\nl: [9]\ngone: null\n", "o.yaml")
    merged = deep_merge(base, over)
    assert merged.plain() == {
        "m": {"a": 1, "b": {"x": 1, "y": 20, "z": 30}, "c": 3},
        "l": [9],
        "keep": 1,
    }
    # positions follow the value that won
    assert merged.value["m"].value["a"].pos.file == "b.yaml"
    assert merged.value["m"].value["b"].value["y"].pos.file == "o.yaml"
    assert merged.value["l"].pos.file == "o.yaml"


ORG = """apiVersion: dsenv/v1
kind: Org
name: acme
target: {provider: aws, region: eu-west-1}
tags: {cost-center: data, owner: platform}
defaults:
  languages:
    python: {version: "3.12", packages: [pandas, numpy]}
  kafka: {brokers: 5, storage: 200Gi}
  workspaces: {idle_timeout: 2h}
"""


def test_team_inherits_org_values_with_the_documented_merge(tmp_path: Path) -> None:
    _write(tmp_path, "org/acme.yaml", ORG)
    team = load_team(
        _team(
            tmp_path,
            "extends: org/acme.yaml\n"
            + TIER
            + "tags: {owner: null, project: p}\n"
            + "languages:\n  python: {packages: [polars]}\n",
        )
    ).team
    assert team.org == "acme"
    assert team.target.provider == "aws" and team.target.region == "eu-west-1"
    assert team.tags == {"cost-center": "data", "project": "p"}  # null removed owner
    assert team.languages.python is not None
    assert team.languages.python.version == "3.12"  # mapping merged
    assert team.languages.python.packages == ["polars"]  # list replaced, not appended


def test_extends_path_is_relative_to_the_file_that_names_it(tmp_path: Path) -> None:
    _write(tmp_path, "orgs/acme.yaml", ORG)
    _write(
        tmp_path,
        "orgs/unit.yaml",
        "apiVersion: dsenv/v1\nkind: Org\nname: unit\nextends: acme.yaml\ntags: {unit: u}\n",
    )
    path = _team(tmp_path / "teams" / "deep", "extends: ../../orgs/unit.yaml\n" + TIER)
    loaded = load_team(path)
    assert loaded.team.org == "unit"
    assert loaded.team.tags == {"cost-center": "data", "owner": "platform", "unit": "u"}
    assert [Path(f).name for f in loaded.files] == ["team.yaml", "unit.yaml", "acme.yaml"]


def test_org_capability_defaults_apply_only_to_teams_declaring_the_section(tmp_path: Path) -> None:
    _write(tmp_path, "acme.yaml", ORG)
    without = load_team(_team(tmp_path, "extends: acme.yaml\n" + TIER, "a.yaml")).team
    assert without.kafka is None and without.workspaces is None
    with_kafka = load_team(
        _team(tmp_path, "extends: acme.yaml\n" + TIER + "kafka: {storage: 50Gi}\n", "b.yaml")
    ).team
    assert with_kafka.kafka is not None
    assert with_kafka.kafka.brokers == 5 and with_kafka.kafka.storage == "50Gi"
    assert with_kafka.workspaces is None


def test_team_can_drop_an_inherited_section_with_null(tmp_path: Path) -> None:
    _write(tmp_path, "acme.yaml", ORG)
    team = load_team(_team(tmp_path, "extends: acme.yaml\n" + TIER + "kafka: null\n")).team
    assert team.kafka is None


def test_all_problems_in_a_file_are_reported_at_once_in_position_order(tmp_path: Path) -> None:
    path = _team(
        tmp_path,
        K8S
        + "tiers:\n  small: {cpu: 0, memory: 8GB}\n"
        + "workspaces: {idle_timeout: soon, default_tier: small}\n",
    )
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 3
    assert [line.split(": ")[1] for line in lines] == [
        "tiers.small.cpu",
        "tiers.small.memory",
        "workspaces.idle_timeout",
    ]
    assert all(line.startswith(f"{path}:") for line in lines)


def test_cross_reference_errors_wait_for_a_valid_schema(tmp_path: Path) -> None:
    """A dangling tier is reported once the file's types are right, not as noise beside them."""
    with pytest.raises(ProfileError) as info:
        load_profile(_team(tmp_path, K8S + K8S_TIER + "workspaces: {default_tier: big}\n"))
    assert "tier 'big' is not defined; tiers are: small" in str(info.value)


def test_inherited_error_is_reported_once_at_the_org_file(tmp_path: Path) -> None:
    org = _write(
        tmp_path,
        "acme.yaml",
        ORG.replace("region: eu-west-1", "region: eu-west-1, kubernetes_version: 1.30"),
    )
    with pytest.raises(ProfileError) as info:
        load_profile(_team(tmp_path, "extends: acme.yaml\n" + TIER))
    (problem,) = info.value.problems
    assert problem.position.file == str(org)
    assert problem.position.line == 4
    assert "a version must be quoted" in problem.message


def test_load_team_refuses_an_org_profile() -> None:
    with pytest.raises(ProfileError, match="this is an Org profile"):
        load_team(PROFILES / "org" / "acme.yaml")


@pytest.mark.parametrize("profile", sorted(PROFILES.rglob("*.yaml")), ids=lambda p: p.name)
def test_example_profiles_load(profile: Path) -> None:
    loaded = load_profile(profile)
    assert loaded.model.name == profile.stem
