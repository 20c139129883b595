"""A CLI that never loses a file: `-o` never writes over an input, every write is atomic and
leaves no temporary file, and every path that cannot be written is a clear exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from offline_kit import PROFILES
from testkit import run_cli

from dsenv.errors import UsageError
from dsenv.writer import TMP_SUFFIX, Writer


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    shutil.copytree(PROFILES, tmp_path / "profiles")
    return tmp_path / "profiles"


def _strays(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(f"*{TMP_SUFFIX}")]


@pytest.mark.parametrize(
    ("args", "target"),
    [
        (["plan", "{p}/sandbox.yaml", "-o", "{p}/sandbox.yaml"], "sandbox.yaml"),
        (["plan", "{p}/fraud.yaml", "-f", "json", "-o", "{p}/org/acme.yaml"], "org/acme.yaml"),
        (["graph", "{p}/sandbox.yaml", "-o", "{p}/sandbox.yaml"], "sandbox.yaml"),
        (["diff", "{p}/sandbox.yaml", "{p}/vision.yaml", "-o", "{p}/vision.yaml"], "vision.yaml"),
    ],
    ids=["plan-onto-profile", "plan-onto-extended-org", "graph-onto-profile", "diff-onto-new"],
)
def test_output_onto_an_input_is_refused_and_the_input_is_unchanged(
    profiles: Path, args: list[str], target: str
) -> None:
    before = (profiles / target).read_bytes()
    code, _, err = run_cli([a.format(p=profiles) for a in args])
    assert code == 2, err
    assert "it is an input of this command" in err and "Traceback" not in err
    assert (profiles / target).read_bytes() == before
    assert not _strays(profiles)


def test_output_through_a_symlink_or_hard_link_to_the_input_is_refused(profiles: Path) -> None:
    before = (profiles / "sandbox.yaml").read_bytes()
    (profiles / "link.json").symlink_to(profiles / "sandbox.yaml")
    os.link(profiles / "sandbox.yaml", profiles / "hard.json")
    for name in ("link.json", "hard.json"):
        code, _, err = run_cli(["plan", str(profiles / "sandbox.yaml"), "-o", str(profiles / name)])
        assert code == 2 and "it is an input of this command" in err
    assert (profiles / "sandbox.yaml").read_bytes() == before


def test_output_onto_a_directory_is_a_clear_exit_2(profiles: Path) -> None:
    code, _, err = run_cli(["plan", str(profiles / "sandbox.yaml"), "-o", str(profiles / "org")])
    assert code == 2 and "it is a directory; give a file path" in err
    assert not _strays(profiles)


def test_render_into_a_file_is_a_clear_exit_2(profiles: Path, tmp_path: Path) -> None:
    somefile = tmp_path / "somefile"
    somefile.write_text("keep me\n")
    code, _, err = run_cli(["render", str(profiles / "sandbox.yaml"), "-o", str(somefile)])
    assert code == 2 and "is not a folder" in err and "Traceback" not in err
    assert somefile.read_text() == "keep me\n"


def test_output_onto_a_fifo_is_refused_without_blocking(profiles: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    code, _, err = run_cli(["plan", str(profiles / "sandbox.yaml"), "-o", str(fifo)])
    assert code == 2 and "named pipe" in err


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody may write into, root included (the immutable attribute where the
    folder mode alone does not stop root)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if os.geteuid() == 0 and shutil.which("chattr"):
        immutable = (
            subprocess.run(
                ["chattr", "+i", str(folder)], check=False, capture_output=True
            ).returncode
            == 0
        )
    probe = folder / "probe"
    try:
        probe.write_text("x")
    except OSError:
        pass
    else:
        probe.unlink()
        folder.chmod(0o755)
        pytest.skip("this user can write into a read-only folder (root without chattr)")
    yield folder
    if immutable:
        subprocess.run(["chattr", "-i", str(folder)], check=False)
    folder.chmod(0o755)


def test_output_into_a_read_only_folder_is_a_clear_exit_2(profiles: Path, read_only: Path) -> None:
    target = read_only / "plan.json"
    code, _, err = run_cli(["plan", str(profiles / "sandbox.yaml"), "-o", str(target)])
    assert code == 2, err
    assert "cannot write" in err and ("permission denied" in err or "not permitted" in err)
    assert not target.exists() and not list(read_only.iterdir())


def test_a_write_replaces_the_file_atomically_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old\n")
    target.chmod(0o640)
    Writer(tmp_path).write("plan.json", "new\n")
    assert target.read_text() == "new\n"
    assert (target.stat().st_mode & 0o777) == 0o640
    assert not _strays(tmp_path)


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old\n")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(Exception, match="No space left on device"):
        Writer(tmp_path).write("plan.json", "new\n")
    assert target.read_text() == "old\n"
    assert not _strays(tmp_path)


def test_an_interrupted_write_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Writer(tmp_path).write("plan.json", "new\n")
    assert not (tmp_path / "plan.json").exists() and not _strays(tmp_path)


def test_a_successful_cli_write_leaves_only_the_output(profiles: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "plan.json"
    code, _, err = run_cli(["plan", str(profiles / "sandbox.yaml"), "-f", "json", "-o", str(out)])
    assert code == 0, err
    assert [p.name for p in out.parent.iterdir()] == ["plan.json"]
    assert out.read_text().startswith("{")


def test_init_never_writes_over_the_org_it_extends(tmp_path: Path) -> None:
    org = tmp_path / "org.yaml"
    shutil.copy(PROFILES / "org" / "acme.yaml", org)
    before = org.read_bytes()
    code, _, err = run_cli(["init", "risk", "-o", str(org), "--extends", "org.yaml", "--force"])
    assert code == 2 and "it is an input of this command" in err
    assert org.read_bytes() == before


def test_writer_refuses_a_path_outside_its_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="outside"):
        Writer(tmp_path / "a").write("../b.txt", "x")
