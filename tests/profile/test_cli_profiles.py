"""The profile commands as users run them: validate, schema, explain, init."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from testkit import PROFILES, ROOT
from typer.testing import CliRunner

from dsenv.cli.app import app

EXAMPLES = sorted(PROFILES.rglob("*.yaml"))


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    return ROOT


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


# ---- validate ------------------------------------------------------------------------------


def test_validate_folder_prints_one_line_per_profile_and_a_summary(at_root: Path) -> None:
    result = _run("validate", "profiles")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    expected = [str(p.relative_to(ROOT)) for p in EXAMPLES]
    assert [line.split()[1] for line in lines[:-1]] == expected
    assert all(line.startswith("ok   ") for line in lines[:-1])
    assert lines[-1] == f"{len(expected)} valid, 0 invalid, {len(expected)} profiles"
    assert result.stderr == ""


def test_validate_mixed_folder_exits_2_and_counts_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.yaml").write_text((PROFILES / "sandbox.yaml").read_text(), encoding="utf-8")
    (tmp_path / "bad.yml").write_text(
        (PROFILES / "sandbox.yaml").read_text().replace("storage: 10Gi", "storage: lots"),
        encoding="utf-8",
    )
    result = _run("validate", ".")
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [
        "FAIL ./bad.yml (1 problem)",
        "ok   ./good.yaml (Team sandbox)",
        "1 valid, 1 invalid, 2 profiles",
    ]
    assert result.stderr.startswith("./bad.yml:10:")
    assert "workspaces.storage: 'lots' is not a storage quantity" in result.stderr


def test_validate_of_a_folder_without_profiles_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from dsenv.cli.app import main; main()", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "no *.yaml or *.yml profiles under" in result.stderr
    assert "Traceback" not in result.stderr


def test_profile_commands_import_neither_pulumi_nor_pydantic_nor_rich(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from dsenv.cli.app import app\n"
        "for args in (['--help'], ['validate', 'profiles'], ['schema'], "
        "['explain', 'profiles/fraud.yaml'], ['init', 'x', '-o', sys.argv[1]]):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, (args, exc.code)\n"
        "heavy = {'pulumi', 'pydantic', 'ruamel', 'rich'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "x.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # start-up cost: none of these is needed to check or explain a profile (bench/README.md)
    assert result.stdout.splitlines()[-1] == "[]"


# ---- schema --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["any", "team", "org"])
def test_schema_is_valid_json_schema_2020_12(kind: str) -> None:
    result = _run("schema", "--kind", kind)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("profile", EXAMPLES, ids=lambda p: p.name)
def test_schema_accepts_every_example_profile(profile: Path) -> None:
    schema = json.loads(_run("schema").stdout)
    document = yaml.safe_load(profile.read_text(encoding="utf-8"))
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(document)]
    assert errors == []
    kind = document["kind"].lower()
    assert (
        list(
            Draft202012Validator(json.loads(_run("schema", "--kind", kind).stdout)).iter_errors(
                document
            )
        )
        == []
    )


@pytest.mark.parametrize(
    ("profile", "edit"),
    [
        ("sandbox.yaml", lambda d: d["tiers"]["standard"].pop("memory")),  # standalone: required
        ("sandbox.yaml", lambda d: d["tiers"]["standard"].update(colour="blue")),
        ("fraud.yaml", lambda d: d["tiers"]["small"].update(spot="yes")),
        ("fraud.yaml", lambda d: d.pop("name")),
        ("org/acme.yaml", lambda d: d["constraints"].update(max_gpus=4)),
    ],
    ids=["missing-memory", "unknown-key", "string-for-boolean", "no-name-extending", "org-unknown"],
)
def test_schema_rejects_a_broken_profile(profile: str, edit: Any) -> None:
    schema = json.loads(_run("schema").stdout)
    document = yaml.safe_load((PROFILES / profile).read_text(encoding="utf-8"))
    edit(document)
    assert list(Draft202012Validator(schema).iter_errors(document))


def test_schema_describes_every_property() -> None:
    schema = json.loads(_run("schema").stdout)
    undescribed = [
        f"{name}.{prop}"
        for name, definition in schema["$defs"].items()
        if not name.endswith("Partial")
        for prop, sub in definition.get("properties", {}).items()
        if "description" not in sub
    ]
    assert undescribed == []


# ---- explain -------------------------------------------------------------------------------


def _source_text(source: str) -> str:
    file, line, col = source.rsplit(":", 2)
    return (ROOT / file).read_text(encoding="utf-8").splitlines()[int(line) - 1][int(col) - 1 :]


def _written_as(value: Any, text: str) -> bool:
    if isinstance(value, list):
        return text.startswith(("[", "-")) or text == ""
    if isinstance(value, bool):
        return text.startswith(str(value).lower())
    if isinstance(value, str):
        return text.startswith((value, json.dumps(value), f"'{value}'"))
    number = re.match(r"[-+]?[0-9][0-9_.eE]*", text)
    return number is not None and float(number.group()) == value


@pytest.mark.parametrize("profile", ["fraud.yaml", "vision.yaml", "sandbox.yaml"])
def test_explain_points_every_value_at_the_place_it_was_written(
    profile: str, at_root: Path
) -> None:
    result = _run("explain", f"profiles/{profile}", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    written = [r for r in rows if r["source"] not in ("default", "derived")]
    assert written and len(written) < len(rows)  # some values come from defaults
    for row in written:
        assert _written_as(row["value"], _source_text(row["source"])), row


def test_explain_shows_inherited_values_with_the_org_file(at_root: Path) -> None:
    result = _run("explain", "profiles/vision.yaml", "workspaces")
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split()[-1] for line in result.stdout.splitlines()}
    assert rows["workspaces.idle_timeout"].startswith("profiles/org/acme.yaml:")  # org default
    assert rows["workspaces.storage"].startswith("profiles/vision.yaml:")  # team's own
    target = _run("explain", "profiles/vision.yaml", "target").stdout
    assert "target.region" in target and "profiles/org/acme.yaml:7:" in target
    assert "target.public_access_cidrs" in target and "profiles/vision.yaml:9:" in target
    assert "target.vpc_cidr" in target and target.split("target.vpc_cidr")[1].split("\n")[
        0
    ].endswith("default")


def test_explain_of_an_unknown_key_names_the_top_level_keys(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from dsenv.cli.app import main; main()",
            "explain",
            "profiles/fraud.yaml",
            "nope",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "'nope' is not a key of profiles/fraud.yaml; top-level keys:" in result.stderr


# ---- init ----------------------------------------------------------------------------------


def test_init_writes_a_valid_profile_and_refuses_to_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsenv.profile.load import load_team

    monkeypatch.chdir(tmp_path)
    result = _run("init", "churn", "--owner", "ann@acme.example", "--budget", "900")
    assert result.exit_code == 0, result.output
    team = load_team(tmp_path / "churn.yaml").team
    assert team.name == "churn" and team.owners == ["ann@acme.example"]
    assert team.budget is not None and team.budget.monthly_usd == 900
    assert team.target.provider == "aws"

    before = (tmp_path / "churn.yaml").read_text()
    refused = subprocess.run(
        [
            sys.executable,
            "-c",
            "from dsenv.cli.app import main; main()",
            "init",
            "churn",
            "--provider",
            "kubernetes",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert "exists; pass --force to overwrite it" in refused.stderr
    assert (tmp_path / "churn.yaml").read_text() == before

    forced = _run("init", "churn", "--provider", "kubernetes", "--context", "kind-x", "--force")
    assert forced.exit_code == 0, forced.output
    assert load_team(tmp_path / "churn.yaml").team.target.context == "kind-x"


def test_init_extending_an_org_inherits_its_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsenv.profile.load import load_team

    monkeypatch.chdir(tmp_path)
    org = Path("org.yaml")
    org.write_text((PROFILES / "org" / "acme.yaml").read_text(), encoding="utf-8")
    result = _run(
        "init", "risk", "-o", "teams/risk.yaml", "--extends", "../org.yaml", "--budget", "1000"
    )
    assert result.exit_code == 0, result.output
    team = load_team(tmp_path / "teams" / "risk.yaml").team
    assert team.org == "acme" and team.target.region == "eu-west-1"
    assert "target" not in yaml.safe_load((tmp_path / "teams" / "risk.yaml").read_text())


def test_init_rejects_a_bad_team_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run("init", "Bad_Name")
    assert result.exit_code != 0
    assert not list(tmp_path.iterdir())


def test_help_and_version(at_root: Path) -> None:
    from dsenv import __version__

    result = _run("--help")
    assert result.exit_code == 0
    for command in ("validate", "schema", "explain", "init"):
        assert command in result.stdout
    assert _run("--version").stdout.strip() == f"dsenv {__version__}"
    for command in ("validate", "schema", "explain", "init"):
        assert _run(command, "--help").exit_code == 0
