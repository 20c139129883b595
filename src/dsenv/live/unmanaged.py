"""Unmanaged resources: tagged for the team in the account, absent from the stack's state.

The AWS Resource Groups Tagging API lists every taggable resource carrying
`dsenv:team=<team>`; whatever ARN the state does not know was made by hand, left behind
by a lost state, or belongs to a stack that no longer exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from dsenv.errors import OperationalError

TEAM_TAG = "dsenv:team"


def state_arns(outputs: Iterable[dict[str, Any]]) -> set[str]:
    """Every ARN mentioned anywhere in the resources' outputs."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str) and value.startswith("arn:"):
            found.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for out in outputs:
        walk(out)
    return found


def tagged_arns(team: str, region: str, client: Any = None) -> Iterator[tuple[str, dict[str, str]]]:
    """(ARN, tags) of every resource tagged for the team, all pages."""
    if client is None:
        try:
            import boto3
            from botocore.exceptions import (  # type: ignore[import-untyped,unused-ignore]
                BotoCoreError,
                ClientError,
            )
        except ImportError as exc:
            raise OperationalError(
                "the unmanaged check needs boto3",
                hint="boto3 is a dependency of dsenv-cli: reinstall it",
            ) from exc
        try:
            client = boto3.client("resourcegroupstaggingapi", region_name=region)
        except (BotoCoreError, ClientError) as exc:
            raise OperationalError(f"AWS tagging API unavailable: {exc}") from exc
    paginator = client.get_paginator("get_resources")
    try:
        for page in paginator.paginate(TagFilters=[{"Key": TEAM_TAG, "Values": [team]}]):
            for item in page.get("ResourceTagMappingList", []):
                tags = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
                yield item["ResourceARN"], tags
    except Exception as exc:  # botocore raises many types: credentials, endpoint, throttling
        raise OperationalError(f"listing resources tagged {TEAM_TAG}={team} failed: {exc}") from exc


def unmanaged(
    team: str, region: str, outputs: Iterable[dict[str, Any]], client: Any = None
) -> list[str]:
    known = state_arns(outputs)
    return sorted(arn for arn, _ in tagged_arns(team, region, client) if arn not in known)
