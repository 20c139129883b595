"""`dsenv explain`: every final value of a profile and the file:line it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dsenv.errors import UsageError
from dsenv.profile.fields import to_data
from dsenv.profile.load import LoadedProfile
from dsenv.profile.model import AWS_TIER_KEYS, KUBERNETES_TIER_KEYS, Team
from dsenv.profile.problems import Locator, dotted
from dsenv.profile.yamlnodes import KeyPath


@dataclass(frozen=True)
class Explained:
    key: str
    value: Any
    source: str  # "file:line:col" or "default"


def explain(loaded: LoadedProfile, key: str | None = None) -> list[Explained]:
    final = to_data(loaded.model)
    if isinstance(loaded.model, Team):
        # a tier's keys of the other target are never written (an error), so never final
        foreign = KUBERNETES_TIER_KEYS if loaded.model.target.provider == "aws" else AWS_TIER_KEYS
        for tier in final.get("tiers", {}).values():
            for name in foreign:
                tier.pop(name, None)
    loc = Locator(loaded.tree)
    rows = [
        Explained(dotted(path), value, str(loc.index[path].pos) if path in loc.index else "default")
        for path, value in _leaves(final, ())
    ]
    if isinstance(loaded.model, Team) and loaded.model.target.provider == "aws":
        rows += _cluster_access(loaded.model)
    if key is None:
        return rows
    selected = [r for r in rows if r.key == key or r.key.startswith((f"{key}.", f"{key}["))]
    if not selected:
        tops = sorted({r.key.split(".")[0].split("[")[0] for r in rows})
        raise UsageError(
            f"{key!r} is not a key of {loaded.path}; top-level keys: {', '.join(tops)}"
        )
    return selected


def _leaves(value: Any, path: KeyPath) -> list[tuple[KeyPath, Any]]:
    if isinstance(value, dict) and value:
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [(path, value)]


def _cluster_access(team: Team) -> list[Explained]:
    """What each owner may do with the cluster API (EKS access entries, spec/aws.py)."""
    rows = []
    for owner in team.owners:
        arn = team.owner_arns.get(owner)
        if arn is None:
            value = (
                "none: an owner known only by e-mail gets no EKS access entry; add "
                f"owner_arns.{owner} with the owner's IAM role or user ARN"
            )
        else:
            value = f"admin of the team's namespaces as {arn} (EKS access entry)"
        rows.append(Explained(f"owners.cluster_access.{owner}", value, "derived"))
    for arn in team.target.admins:
        rows.append(Explained("target.admins.cluster_access", f"cluster admin: {arn}", "derived"))
    return rows
