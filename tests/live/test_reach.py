"""Whether this machine reaches a target aws stack's cluster API, before `dsenv up` runs the
engine and in `dsenv doctor --profile`: a listening socket on loopback stands for a reachable
endpoint, a closed loopback port for one that is not (no network is used). The stack's
outputs are read through `dsenv.live.reach.read_stack_outputs`, replaced here."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dsenv.cli.app import app
from dsenv.live import reach
from dsenv.profile.load import load_team
from dsenv.spec.expand import expand_profile
from dsenv.spec.model import EnvironmentSpec

TEAM = """\
apiVersion: dsenv/v1
kind: Team
name: lab
target: {{provider: aws, region: eu-west-1, kubernetes_version: "1.34"{access}}}
tiers: {{small: {{cpu: 1, memory: 4Gi, instance_types: [m7i.xlarge]}}}}
"""
PUBLIC = ', public_access_cidrs: ["198.51.100.0/24"]'
PRIVATE = ", endpoint: private"


def _profile(tmp_path: Path, access: str) -> Path:
    path = tmp_path / "lab.yaml"
    path.write_text(TEAM.format(access=access), encoding="utf-8")
    return path


def _spec(tmp_path: Path, access: str) -> EnvironmentSpec:
    return expand_profile(load_team(_profile(tmp_path, access)))


@pytest.fixture
def listening() -> Iterator[str]:
    """An endpoint that accepts TCP connections."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield f"https://127.0.0.1:{server.getsockname()[1]}"


@pytest.fixture
def closed() -> str:
    """An endpoint nothing listens on: a port bound once, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"https://127.0.0.1:{port}"


def _outputs(endpoint: str | None) -> dict[str, Any]:
    return {"cluster_name": "lab"} | ({reach.ENDPOINT_OUTPUT: endpoint} if endpoint else {})


# ---- dsenv up's pre-flight -------------------------------------------------------------


def test_up_preflight_passes_when_the_endpoint_accepts(tmp_path: Path, listening: str) -> None:
    spec = _spec(tmp_path, PRIVATE)
    assert reach.preflight_up(spec, lambda: _outputs(listening)) is None


@pytest.mark.parametrize(
    ("access", "fix"),
    [
        (PRIVATE, "run dsenv from inside the VPC (VPN, bastion, or a CI runner in the VPC)"),
        (
            PUBLIC,
            "add this machine's public address to target.public_access_cidrs "
            "(now: 198.51.100.0/24) or connect through the VPN",
        ),
    ],
)
def test_up_preflight_stops_with_exit_3_and_the_fix(
    tmp_path: Path, closed: str, access: str, fix: str
) -> None:
    spec = _spec(tmp_path, access)
    with pytest.raises(reach.ApiUnreachableError) as caught:
        reach.preflight_up(spec, lambda: _outputs(closed))
    error = caught.value
    assert error.exit_code == 3
    assert closed in error.message
    assert ("private endpoint" if access == PRIVATE else "public endpoint") in error.message
    assert error.hint == fix


def test_first_up_checks_nothing_but_warns_about_a_private_endpoint(tmp_path: Path) -> None:
    private = reach.preflight_up(_spec(tmp_path, PRIVATE), lambda: {})
    assert private is not None and "private" in private and "inside the VPC" in private
    assert reach.preflight_up(_spec(tmp_path, PUBLIC), lambda: {}) is None


def test_up_preflight_ignores_target_kubernetes(tmp_path: Path) -> None:
    profile = Path(__file__).resolve().parents[2] / "profiles" / "sandbox.yaml"
    spec = expand_profile(load_team(profile))

    def never() -> dict[str, Any]:
        raise AssertionError("outputs are not read for target kubernetes")

    assert reach.preflight_up(spec, never) is None


# ---- dsenv doctor --profile ------------------------------------------------------------


@pytest.fixture
def doctor_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSENV_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DSENV_BACKEND", f"file://{tmp_path / 'state'}")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))


def _doctor(
    monkeypatch: pytest.MonkeyPatch, profile: Path, outputs: dict[str, Any] | None
) -> tuple[int, str]:
    monkeypatch.setattr(reach, "read_stack_outputs", lambda settings, spec: outputs)
    result = CliRunner().invoke(app, ["doctor", "--profile", str(profile)])
    return result.exit_code, result.output


@pytest.mark.usefixtures("doctor_env")
def test_doctor_fails_with_exit_3_naming_the_endpoint_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed: str
) -> None:
    code, out = _doctor(monkeypatch, _profile(tmp_path, PUBLIC), _outputs(closed))
    assert code == 3, out
    lines = out.splitlines()
    failed = next(line for line in lines if line.startswith("FAIL cluster API: "))
    assert closed in failed and "not reachable" in failed
    fix = lines[lines.index(failed) + 1]
    assert fix == (
        "     fix: add this machine's public address to target.public_access_cidrs "
        "(now: 198.51.100.0/24) or connect through the VPN"
    )
    assert "Traceback" not in out


@pytest.mark.usefixtures("doctor_env")
def test_doctor_private_endpoint_fix_is_to_run_inside_the_vpc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed: str
) -> None:
    code, out = _doctor(monkeypatch, _profile(tmp_path, PRIVATE), _outputs(closed))
    assert code == 3
    assert "     fix: run dsenv from inside the VPC (VPN, bastion, or a CI runner in the VPC)" in (
        out.splitlines()
    )


@pytest.mark.usefixtures("doctor_env")
def test_doctor_reports_a_reachable_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listening: str
) -> None:
    _, out = _doctor(monkeypatch, _profile(tmp_path, PUBLIC), _outputs(listening))
    assert f"OK   cluster API: {listening} accepts connections" in out.splitlines()
    assert "FAIL cluster API" not in out


@pytest.mark.usefixtures("doctor_env")
def test_doctor_before_the_first_up_warns_for_a_private_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out = _doctor(monkeypatch, _profile(tmp_path, PRIVATE), None)
    line = next(line for line in out.splitlines() if "cluster API: " in line)
    assert line.startswith("WARN cluster API: no stack ") and "no cluster yet" in line
    assert "FAIL cluster API" not in out


@pytest.mark.usefixtures("doctor_env")
def test_doctor_without_a_stack_backend_creates_nothing(tmp_path: Path) -> None:
    """The real reader: no state folder means no stack, and doctor does not create one."""
    from dsenv.live.settings import resolve_settings

    spec = _spec(tmp_path, PUBLIC)
    settings = resolve_settings(None, None, prompt=lambda _: "")
    assert reach.read_stack_outputs(settings, spec) is None
    assert not (tmp_path / "state").exists()


def test_up_stops_before_the_engine_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], closed: str
) -> None:
    """`dsenv up` through the app and its one error handler (CliRunner would hand the
    exception back): exit 3, the endpoint and the fix, no preview started."""
    from dsenv.cli.commands import live

    class Stack:
        name = "lab"

        def outputs(self) -> dict[str, Any]:
            return _outputs(closed)

        def preview(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the engine ran although the API is unreachable")

    profile = _profile(tmp_path, PRIVATE)
    monkeypatch.setattr(live, "_open", lambda *a, **k: (Stack(), _spec(tmp_path, PRIVATE)))
    with pytest.raises(SystemExit) as exited:
        app(["up", str(profile), "--yes"], prog_name="dsenv")
    err = capsys.readouterr().err
    assert exited.value.code == 3, err
    assert closed in err and "private endpoint" in err
    assert "hint: run dsenv from inside the VPC (VPN, bastion, or a CI runner in the VPC)" in err
    assert "Traceback" not in err
