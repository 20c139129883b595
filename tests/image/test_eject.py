"""`dsenv eject`: a standalone Pulumi project whose program is the one `dsenv plan` runs."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import yaml
from parity_support import expanded
from testkit import PROFILES, TEAM_PROFILES

from dsenv.errors import UsageError
from dsenv.image import eject, eject_files
from dsenv.image.eject import PROJECT
from dsenv.spec.serialize import loads
from dsenv.writer import Writer

FRAUD = PROFILES / "fraud.yaml"


def test_project_files_and_their_content(tmp_path: Path) -> None:
    spec = expanded(FRAUD)
    written = eject(spec, Writer(tmp_path, force=False), "profiles/fraud.yaml")
    names = sorted(p.name for p in written)
    assert names == sorted(
        ["Pulumi.yaml", "Pulumi.acme-fraud.yaml", "__main__.py", "requirements.txt", "spec.json"]
    )
    project = yaml.safe_load((tmp_path / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    assert project["runtime"]["name"] == "python"
    stack = yaml.safe_load((tmp_path / "Pulumi.acme-fraud.yaml").read_text())
    assert stack == {"config": {"aws:region": "eu-west-1"}}
    assert (tmp_path / "requirements.txt").read_text().splitlines()[
        -1
    ] == f"dsenv-cli=={spec.dsenv_version}"
    assert loads((tmp_path / "spec.json").read_text()) == spec
    main = (tmp_path / "__main__.py").read_text()
    assert "from dsenv.stacks.program import program" in main
    compile(main, "__main__.py", "exec")


def test_kubernetes_stack_config_names_the_profile_context(tmp_path: Path) -> None:
    spec = expanded(PROFILES / "genomics.yaml")
    files = dict(eject_files(spec, "profiles/genomics.yaml"))
    assert yaml.safe_load(files["Pulumi.institute-genomics.yaml"]) == {
        "config": {"kubernetes:context": "lab-prod"}
    }


def test_kubernetes_stack_without_a_context_leaves_the_current_one(tmp_path: Path) -> None:
    spec = expanded(PROFILES / "sandbox.yaml")
    files = dict(eject_files(spec, "profiles/sandbox.yaml"))
    assert yaml.safe_load(files["Pulumi.sandbox.yaml"]) == {"config": {}}


def test_refuses_to_overwrite_without_force_and_dry_run_writes_nothing(tmp_path: Path) -> None:
    spec = expanded(FRAUD)
    dry = Writer(tmp_path, dry_run=True, force=False)
    eject(spec, dry, "profiles/fraud.yaml")
    assert len(dry.written) == 5 and not any(tmp_path.iterdir())
    eject(spec, Writer(tmp_path, force=False), "profiles/fraud.yaml")
    with pytest.raises(UsageError, match="--force"):
        eject(spec, Writer(tmp_path, force=False), "profiles/fraud.yaml")
    eject(spec, Writer(tmp_path, force=True), "profiles/fraud.yaml")


@pytest.mark.slow
@pytest.mark.parametrize("profile", TEAM_PROFILES, ids=lambda p: p.stem)
def test_ejected_program_yields_the_plan_graph(profile: Path, tmp_path: Path) -> None:
    pytest.importorskip(
        "dsenv.stacks.program", reason="the Pulumi program (dsenv.stacks) is not built yet"
    )
    capture_module = pytest.importorskip(
        "dsenv.offline.capture", reason="offline capture not built yet"
    )
    from dsenv.offline.run import offline

    planned = offline(profile)
    assert planned.spec is not None
    spec = planned.spec
    eject(spec, Writer(tmp_path), f"profiles/{profile.name}")
    project = yaml.safe_load((tmp_path / "Pulumi.yaml").read_text())
    ejected = capture_module.capture(
        lambda: runpy.run_path(str(tmp_path / "__main__.py"), run_name="__main__"),
        stack=spec.stack_name,
        project=project["name"],
        region=spec.aws.region if spec.aws else "us-east-1",
    )
    assert len(ejected.resources) == len(planned.graph.resources) > 0
    assert ejected.to_json() == planned.graph.to_json()
