"""The AWS regions a profile may name, decided here: the bundled list (`data/regions.yaml`,
with its source and the date it was checked) and every region the bundled price table
prices (`data/prices.yaml`). `dsenv validate` refuses any other `target.region`; `dsenv
cost` warns when the region has no price table of its own.

Light on purpose: `validate` reads it, so it parses two small YAML files with libyaml and
imports nothing else.
"""

from __future__ import annotations

import difflib
from functools import cache
from pathlib import Path
from typing import Any

#: The partition dsenv's program writes ARNs for (`arn:aws:...`).
PARTITION = "aws"


def _data(name: str) -> dict[str, Any]:
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    # beside this module (package data of the wheel, the source tree when editable):
    # importlib.resources would cost about 10 ms of every `validate` here
    text = (Path(__file__).parent / "data" / name).read_text(encoding="utf-8")
    data = yaml.load(text, Loader=loader)
    return data if isinstance(data, dict) else {}


@cache
def listed() -> dict[str, str]:
    """Region -> partition, from `data/regions.yaml`."""
    return {str(k): str(v) for k, v in (_data("regions.yaml").get("regions") or {}).items()}


def priced(prices: dict[str, Any] | None = None) -> set[str]:
    """The regions a price table prices: its `region`, and the keys of `regions` if it
    has one (a table per region)."""
    table = prices if prices is not None else _bundled_prices()
    out = {str(table["region"])} if table.get("region") else set()
    out |= {str(r) for r in (table.get("regions") or {})}
    return out


@cache
def _bundled_prices() -> dict[str, Any]:
    return _data("prices.yaml")


def known() -> set[str]:
    """Every region a profile may name."""
    return {r for r, p in listed().items() if p == PARTITION} | priced()


def problem(region: str) -> str | None:
    """Why `region` cannot be a target region, or None."""
    if listed().get(region) == PARTITION or region in known():  # the price table: only if needed
        return None
    partition = listed().get(region)
    if partition is not None:
        return (
            f"{region} is in the {partition} partition; dsenv builds ARNs for the "
            f"{PARTITION} partition only"
        )
    guess = difflib.get_close_matches(region, sorted(known()), n=1, cutoff=0.85)
    hint = f"; did you mean {guess[0]}?" if guess else ""
    return (
        f"{region!r} is not an AWS region dsenv knows{hint} (regions: data/regions.yaml, "
        "checked " + str(_data("regions.yaml").get("checked", "?")) + ")"
    )
