"""The wheel installs one top-level package, `dsenv`, with every sub-package and template."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from testkit import ROOT


def _pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_distribution_name_is_dsenv_cli_and_the_version_is_looked_up_by_it() -> None:
    """`dsenv` on the package index is another project; dsenv is distributed as dsenv-cli,
    and its version (pinned by every generated workflow) is read from that distribution."""
    from importlib.metadata import version

    import dsenv

    project = _pyproject()["project"]
    assert project["name"] == dsenv.DISTRIBUTION == "dsenv-cli"
    assert project["scripts"] == {"dsenv": "dsenv.cli.app:main"}
    assert dsenv.__version__ == version("dsenv-cli") == project["version"]


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    setuptools = _pyproject()["tool"]["setuptools"]
    mapping: dict[str, str] = setuptools["package-dir"]
    listed = set(setuptools["packages"])
    found = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            if any(part.startswith((".", "__")) for part in relative.parts):
                continue
            dotted = ".".join((package, *relative.parts))
            if not any(
                dotted.startswith(f"{other}.") and other != package and other in mapping
                for other in mapping
            ):
                found.add(dotted)
    assert found <= listed, (
        f"folders with __init__.py missing from [tool.setuptools] packages: {sorted(found - listed)}"
    )


@pytest.mark.slow
def test_wheel_has_only_the_dsenv_top_level_package(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("dsenv_cli-*.whl")  # the distribution is dsenv-cli
    names = zipfile.ZipFile(wheel).namelist()
    (metadata,) = (n for n in names if n.endswith(".dist-info/METADATA"))
    headers = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "\nName: dsenv-cli\n" in headers
    assert "\nRequires-Dist: boto3" in headers  # the aws target's unmanaged-drift scan
    top = {n.split("/", 1)[0] for n in names}
    assert top == {"dsenv", next(t for t in top if t.endswith(".dist-info"))}
    assert "dsenv/cli/app.py" in names
    assert "dsenv/stacks/__init__.py" in names
    assert "dsenv/templates/team.yaml.j2" in names
    assert "dsenv/profile/model.py" in names
