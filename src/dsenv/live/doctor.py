"""`dsenv doctor`: every precondition of the live engine, each with its fix."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dsenv.live.settings import LiveSettings

if TYPE_CHECKING:
    from pulumi.automation import PulumiCommand

    from dsenv.spec.model import EnvironmentSpec

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def check_cli() -> tuple[Check, PulumiCommand | None]:
    from dsenv.errors import OperationalError
    from dsenv.live.pulumicli import MIN_VERSION, PINNED_VERSION, find_pulumi

    try:
        cmd = find_pulumi()
    except OperationalError as exc:
        return Check("pulumi CLI", "fail", exc.message, exc.hint or ""), None
    detail = f"{cmd.command} v{cmd.version} (minimum {MIN_VERSION}, dsenv pins {PINNED_VERSION})"
    return Check("pulumi CLI", "ok", detail), cmd


def check_plugins(cmd: PulumiCommand | None, settings: LiveSettings) -> list[Check]:
    """The provider plugins the program needs, at the versions of the installed SDKs."""
    from dsenv.errors import OperationalError
    from dsenv.live import plugins

    wanted = plugins.required_plugins(aws=True)
    if cmd is None:
        listed = ", ".join(f"{p.name} v{p.version}" for p in wanted)
        return [Check("provider plugins", "warn", f"not checked without a CLI (needs {listed})")]
    try:
        found = plugins.status(wanted, cmd, settings.env)
    except OperationalError as exc:
        return [Check("provider plugins", "fail", exc.message, exc.hint or "")]
    checks = []
    for item in found:
        name = f"plugin {item.plugin.name} v{item.plugin.version}"
        if item.source == "missing":
            fix = (
                f"`pulumi {' '.join(item.plugin.install_args())}` (dsenv does this before a "
                f"preview); offline: {item.plugin.install_hint()}"
            )
            checks.append(Check(name, "warn", item.detail, fix))
        else:
            checks.append(Check(name, "ok", f"{item.source}: {item.detail}"))
    return checks


def check_aws() -> Check:
    try:
        import boto3
    except ImportError:
        return Check("AWS identity", "warn", "boto3 is not installed", "pip install boto3")
    try:
        ident = boto3.client("sts").get_caller_identity()
    except Exception as exc:  # no credentials, expired token, no endpoint: all the same fix
        return Check(
            "AWS identity",
            "warn",
            f"no usable AWS credentials ({type(exc).__name__})",
            "aws sso login / set AWS_PROFILE (not needed for target kubernetes)",
        )
    return Check("AWS identity", "ok", f"{ident['Arn']} (account {ident['Account']})")


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_backend(settings: LiveSettings) -> list[Check]:
    """A file backend's folder, its locks and the stacks' pending operations, read where the
    CLI keeps them (pkg/backend/diy: `.pulumi/locks/organization/<project>/<stack>/*.json`,
    `.pulumi/stacks/<project>/<stack>.json` holding `checkpoint.latest`)."""
    checks = [Check("state backend", "ok", settings.describe())]
    state = settings.state_dir
    if state is None:
        return checks
    if not state.exists():
        parent = _nearest_existing(state)
        if not os.access(parent, os.W_OK):
            checks[0] = Check(
                "state backend",
                "fail",
                f"{state} does not exist and {parent} is not writable, so it cannot be created",
                "choose a writable folder with --backend file://PATH or DSENV_BACKEND",
            )
        else:
            checks[0] = Check(
                "state backend",
                "warn",
                f"{state} does not exist yet",
                f"dsenv creates it on first use (any live command), or `mkdir -p {state}`",
            )
        return checks
    if not state.is_dir() or not os.access(state, os.W_OK | os.X_OK):
        checks[0] = Check(
            "state backend", "fail", f"{state} is not a writable folder", f"chmod u+rwx {state}"
        )
        return checks
    for lock in sorted((state / ".pulumi" / "locks").glob("*/*/*/*.json")):
        try:
            holder = json.loads(lock.read_text(encoding="utf-8"))
            who = f"{holder.get('username')}@{holder.get('hostname')} pid {holder.get('pid')}"
        except (OSError, ValueError):
            who = "unreadable lock"
        stack = lock.parent.name
        checks.append(
            Check(
                f"lock {stack}",
                "warn",
                f"held by {who}",
                "if that process is gone: " + settings.cli_hint(stack, "cancel", "--yes"),
            )
        )
    for path in sorted((state / ".pulumi" / "stacks").glob("*/*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            latest = (data.get("checkpoint") or {}).get("latest") or {}
            pending = latest.get("pending_operations")
        except (OSError, ValueError, AttributeError):
            continue
        if pending:
            checks.append(
                Check(
                    f"stack {path.stem}",
                    "fail",
                    f"{len(pending)} pending operation(s) from an interrupted run",
                    "check in the cloud whether they finished, then `dsenv refresh PROFILE` "
                    f"with the profile of stack {path.stem} (--clear-pending-creates drops "
                    "creates that never happened)",
                )
            )
    return checks


def run_checks(settings: LiveSettings, spec: EnvironmentSpec | None = None) -> list[Check]:
    """Every check; with a profile's spec, its cluster: the context it reaches, the API
    server's version and, with shared operators, each operator and CRD it needs; on target
    aws, whether this machine reaches the stack's cluster API (`dsenv.live.reach`)."""
    from dsenv.live.cluster import cluster_checks
    from dsenv.live.reach import doctor_check

    cli, cmd = check_cli()
    reach = doctor_check(settings, spec) if spec is not None else None
    return [
        cli,
        *check_backend(settings),
        *check_plugins(cmd, settings),
        check_aws(),
        *cluster_checks(spec),
        *([reach] if reach is not None else []),
    ]
