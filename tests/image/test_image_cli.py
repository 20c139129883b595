"""The CLI of laptop parity: thin commands over dsenv.image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from parity_support import expanded
from testkit import PROFILES, ROOT
from typer.testing import CliRunner

from dsenv.cli.app import app
from dsenv.image import dockerfile, requirements_in

runner = CliRunner()
FRAUD = PROFILES / "fraud.yaml"


def _dsenv(*args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point: its one error handler turns DsenvError into an exit code,
    which CliRunner (calling the click command directly) would bypass."""
    code = "import sys\nfrom dsenv.cli.app import main\nsys.argv[0] = 'dsenv'\nmain()\n"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )


def test_image_tag_prints_the_content_hash() -> None:
    result = runner.invoke(app, ["image", "tag", str(FRAUD)])
    assert result.exit_code == 0
    assert result.stdout.strip() == expanded(FRAUD).image.tag


def test_dockerfile_prints_or_writes_the_build_context(tmp_path: Path) -> None:
    printed = runner.invoke(app, ["image", "dockerfile", str(FRAUD)])
    assert printed.exit_code == 0 and printed.stdout == dockerfile(expanded(FRAUD))
    out = tmp_path / "ctx"
    written = runner.invoke(app, ["image", "dockerfile", str(FRAUD), "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert (out / "requirements.in").read_text() == requirements_in(expanded(FRAUD))
    again = _dsenv("image", "dockerfile", str(FRAUD), "-o", str(out))
    assert again.returncode == 2 and "--force" in again.stderr


def test_devcontainer_takes_the_registry(tmp_path: Path) -> None:
    target = tmp_path / ".devcontainer" / "devcontainer.json"
    result = runner.invoke(
        app, ["image", "devcontainer", str(FRAUD), "-o", str(target), "--registry", "reg.example"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["image"].startswith("reg.example/acme/fraud-workspace:")


def test_workflow_for_a_kubernetes_team_without_a_registry_is_a_usage_error() -> None:
    result = _dsenv("image", "workflow", str(PROFILES / "sandbox.yaml"))
    assert result.returncode == 2
    assert "has no registry to push to" in result.stderr and "Traceback" not in result.stderr
    assert "set target.registry" in result.stderr
    assert "kind load docker-image localhost/sandbox-workspace:" in result.stderr


def test_workflow_watches_repository_relative_paths(tmp_path: Path) -> None:
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        result = runner.invoke(
            app, ["image", "workflow", "profiles/fraud.yaml", "-o", str(tmp_path)]
        )
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    text = (tmp_path / ".github/workflows/dsenv-image-acme-fraud.yml").read_text()
    assert '- "profiles/org/acme.yaml"' in text


def test_eject_dry_run_lists_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "project"
    result = runner.invoke(app, ["eject", str(FRAUD), "-o", str(out), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.count("would write") == 5
    assert not out.exists()


def test_eject_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert runner.invoke(app, ["eject", str(FRAUD), "-o", str(tmp_path)]).exit_code == 0
    (tmp_path / "spec.json").write_text("mine")
    refused = _dsenv("eject", str(FRAUD), "-o", str(tmp_path))
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert (tmp_path / "spec.json").read_text() == "mine"
    assert runner.invoke(app, ["eject", str(FRAUD), "-o", str(tmp_path), "--force"]).exit_code == 0


def test_bad_profile_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: dsenv/v1\nkind: Team\nname: x\ntiers: {}\nlanguages: 3\n")
    result = _dsenv("image", "dockerfile", str(bad))
    assert result.returncode == 2
    assert "bad.yaml:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["image", "dockerfile"], ["image", "devcontainer"], ["eject"]])
def test_image_commands_do_not_import_pulumi(command: list[str], tmp_path: Path) -> None:
    extra = ["-o", str(tmp_path / "out"), "--dry-run"] if command == ["eject"] else []
    code = (
        "import sys\nfrom dsenv.cli.app import app\n"
        f"try:\n    app({[*command, str(FRAUD), *extra]!r})\nexcept SystemExit:\n    pass\n"
        "assert 'pulumi' not in sys.modules, 'pulumi was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
