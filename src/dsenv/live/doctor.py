"""`dsenv doctor`: every precondition of the live engine, each with its fix."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dsenv.live.settings import LiveSettings

if TYPE_CHECKING:
    from dsenv.spec.model import EnvironmentSpec

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def check_cli() -> Check:
    from dsenv.errors import OperationalError
    from dsenv.live.pulumicli import MIN_VERSION, find_pulumi

    try:
        cmd = find_pulumi()
    except OperationalError as exc:
        return Check("pulumi CLI", "fail", exc.message, exc.hint or "")
    return Check("pulumi CLI", "ok", f"{cmd.command} v{cmd.version} (minimum {MIN_VERSION})")


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


def check_backend(settings: LiveSettings) -> list[Check]:
    checks = [Check("state backend", "ok", settings.describe())]
    state = settings.state_dir
    if state is None:
        return checks
    if not state.exists():
        checks[0] = Check("state backend", "ok", f"{settings.describe()} (created on first use)")
        return checks
    if not os.access(state, os.W_OK):
        checks[0] = Check("state backend", "fail", f"{state} is not writable", f"chmod u+w {state}")
    locks = sorted((state / ".pulumi" / "locks").glob("*/*/*/*.json"))
    for lock in locks:
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
                f"if that process is gone: pulumi cancel --stack {stack}",
            )
        )
    for path in sorted((state / ".pulumi" / "stacks").glob("*/*.json")):
        try:
            pending = json.loads(path.read_text(encoding="utf-8"))["deployment"].get(
                "pending_operations"
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if pending:
            checks.append(
                Check(
                    f"stack {path.stem}",
                    "fail",
                    f"{len(pending)} pending operation(s) from an interrupted run",
                    f"check the cloud, then dsenv refresh (stack {path.stem})",
                )
            )
    return checks


def run_checks(settings: LiveSettings, spec: EnvironmentSpec | None = None) -> list[Check]:
    """Every check; with a profile's spec, its cluster: the context it reaches, the API
    server's version and, with shared operators, each operator and CRD it needs."""
    from dsenv.live.cluster import cluster_checks

    return [check_cli(), *check_backend(settings), check_aws(), *cluster_checks(spec)]
