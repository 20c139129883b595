"""Limits the cloud enforces, checked when the profile is validated: regions, tags, owners,
counts, the Kubernetes version (messages and positions: the corpus, tests/corpus)."""

from __future__ import annotations

import pytest

from dsenv import regions
from dsenv.profile.schema import json_schema


def test_every_listed_region_of_the_aws_partition_and_the_priced_region_are_known() -> None:
    listed = regions.listed()
    assert len(listed) >= 30 and listed["eu-west-1"] == "aws"
    for region, partition in listed.items():
        assert (regions.problem(region) is None) == (partition == regions.PARTITION), region
    assert regions.priced() <= regions.known()


def test_a_price_table_per_region_adds_its_regions() -> None:
    table = {"region": "eu-west-1", "regions": {"xx-test-1": {}, "xx-test-2": {}}}
    assert regions.priced(table) == {"eu-west-1", "xx-test-1", "xx-test-2"}


@pytest.mark.parametrize(
    ("region", "says"),
    [
        ("mars-east-1", "is not an AWS region dsenv knows"),
        ("eu-wets-1", "did you mean eu-west-1?"),
        ("cn-north-1", "in the aws-cn partition"),
    ],
)
def test_an_unknown_or_foreign_region_is_named_with_why(region: str, says: str) -> None:
    assert says in (regions.problem(region) or "")


def test_the_schema_publishes_the_tag_and_owner_limits() -> None:
    team = json_schema("team")
    text = str(team)
    assert "'maxLength': 256" in text and "'maxLength': 128" in text
    assert "'format': 'email'" in text
    assert "'maximum': 450" in text
