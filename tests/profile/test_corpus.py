"""The malformed-profile corpus: every case exits 2 with a `file:line:col` first line on stderr
naming the right place, and never a traceback.

Cases live in tests/corpus/cases/, their expectations in tests/corpus/cases.yaml. Every case
runs in-process through the Typer app; one subprocess call runs the whole folder through the
installed console script, and a slow pass runs each case as its own process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from testkit import ROOT
from typer.testing import CliRunner

from dsenv.cli.app import app

CORPUS = ROOT / "tests" / "corpus"
MIN_CASES = 60


@dataclass(frozen=True)
class Case:
    file: str  # relative to CORPUS, as passed to `dsenv validate`
    at: str  # expected file:line:col of the first stderr line
    message: str  # text the first stderr line contains
    also: tuple[str, ...] = ()  # text expected elsewhere on stderr


def _cases() -> list[Case]:
    spec = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
    return [
        Case(file, entry["at"], entry["message"], tuple(entry.get("also", ())))
        for file, entry in sorted(spec.items())
    ]


CASES = _cases()


def _dsenv() -> list[str]:
    """The installed console script beside this interpreter (what users run)."""
    script = Path(sys.executable).with_name("dsenv")
    if script.is_file():
        return [str(script)]
    found = shutil.which("dsenv")
    if found is None:
        pytest.skip("no dsenv console script next to the interpreter or on PATH")
    return [found]


def _check(case: Case, code: int, stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert code == 2, f"exit {code}; stderr:\n{stderr}"
    first = stderr.splitlines()[0] if stderr else ""
    assert first.startswith(f"{case.at}: "), f"first stderr line: {first!r}; expected {case.at}"
    assert case.message in first, f"first stderr line: {first!r}; expected {case.message!r}"
    for text in case.also:
        assert text in stderr


def test_corpus_has_at_least_sixty_cases_and_every_case_file_is_listed() -> None:
    listed = {c.file for c in CASES}
    on_disk = {p.relative_to(CORPUS).as_posix() for p in (CORPUS / "cases").iterdir()}
    assert listed == on_disk
    assert len(listed) + 1 >= MIN_CASES  # + the >1 MiB case generated below


def test_corpus_parents_that_are_meant_to_be_valid_load() -> None:
    """The orgs most cases extend are themselves valid, so each case isolates its own defect."""
    from dsenv.profile.load import load_profile

    for name in (
        "acme.yaml",
        "strict-tags.yaml",
        "division.yaml",
        "team-parent.yaml",
        "long-org.yaml",
    ):
        load_profile(CORPUS / "parents" / name)


@pytest.fixture
def in_corpus(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(CORPUS)
    return CORPUS


@pytest.mark.parametrize("case", CASES, ids=[Path(c.file).stem for c in CASES])
def test_malformed_profile_exits_2_naming_the_place(case: Case, in_corpus: Path) -> None:
    result = CliRunner().invoke(app, ["validate", case.file])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    _check(case, result.exit_code, result.stderr)


def test_profile_over_one_mib_is_refused_at_line_1(tmp_path: Path) -> None:
    big = tmp_path / "huge.yaml"
    padding = "# " + "x" * 1000 + "\n"
    big.write_text(
        "apiVersion: dsenv/v1\nkind: Team\nname: huge\n" + padding * 1100, encoding="utf-8"
    )
    assert big.stat().st_size > 1024 * 1024
    result = subprocess.run(
        [*_dsenv(), "validate", "huge.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    _check(
        Case("huge.yaml", "huge.yaml:1:1", "limited to 1048576 bytes (1 MiB)"),
        result.returncode,
        result.stderr,
    )


def test_whole_corpus_in_one_process_reports_every_case_without_traceback() -> None:
    """End to end through the console script: one `dsenv validate cases/` call."""
    result = subprocess.run(
        [*_dsenv(), "validate", "cases"], cwd=CORPUS, capture_output=True, text=True, check=False
    )
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    for case in CASES:
        assert f"FAIL {case.file} (" in result.stdout
        assert f"{case.at}: " in result.stderr, case.file
    assert result.stdout.splitlines()[-1] == f"0 valid, {len(CASES)} invalid, {len(CASES)} profiles"


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[Path(c.file).stem for c in CASES])
def test_malformed_profile_exits_2_as_its_own_process(case: Case) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DSENV_DEBUG"}
    result = subprocess.run(
        [*_dsenv(), "validate", case.file],
        cwd=CORPUS,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    _check(case, result.returncode, result.stderr)
