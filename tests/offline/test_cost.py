"""`dsenv cost`: the estimate for fraud.yaml equals a hand computation with round prices."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from offline_kit import PROFILES, edited, example
from typer.testing import CliRunner

from dsenv.cli.app import app
from dsenv.errors import UsageError
from dsenv.offline.cost import estimate, gib, price_table, render_markdown
from dsenv.offline.run import offline

runner = CliRunner()

ROUND_PRICES = {
    "region": "test-region-1",
    "date": "2000-01-01",
    "hours_per_month": 1000,
    "instances": {
        "m7i.large": {"on_demand": 0.1, "spot": 0.05},
        "r7i.4xlarge": {"on_demand": 1.0, "spot": 0.5},
        "g5.2xlarge": {"on_demand": 2.0, "spot": 1.0},
    },
    "eks_cluster_hour": 0.1,
    "nat_gateway_hour": 0.05,
    "ebs_gp3_gib_month": 0.1,
    "s3": {"gib_month": 0.02, "assumed_gib_per_bucket": 100},
    "ecr": {"gib_month": 0.1, "assumed_gib_per_repository": 10},
    "kms_key_month": 1.0,
}


@pytest.fixture
def prices_file(tmp_path: Path) -> Path:
    path = tmp_path / "prices.yaml"
    path.write_text(yaml.safe_dump(ROUND_PRICES))
    return path


def test_fraud_cost_matches_the_hand_computation(prices_file: Path) -> None:
    env = example("fraud")
    report = estimate(env.graph, env.spec, price_table(prices_file))
    # fraud.yaml with 1000 h/month; every tier node has the default 100 GiB root volume:
    eks = 0.1 * 1000  # control plane                  = 100
    nat = 2 * 0.05 * 1000  # one NAT per public subnet (2)  = 100
    small = 0.1 * 1000 + 100 * 0.1  # m7i.large on-demand, per node  = 110 (min 1, max 10)
    large = 0.5 * 1000 + 100 * 0.1  # r7i.4xlarge spot, per node     = 510 (min 0, max 4)
    gpu = 2.0 * 1000 + 100 * 0.1  # g5.2xlarge on-demand, per node = 2010 (min 0, max 2)
    kms = 1.0  # the cluster's secrets key
    kafka = 3 * 100 * 0.1  # 3 brokers x 100Gi gp3          = 30
    ecr = 10 * 0.1  # 10 GiB assumed                 = 1
    s3 = 2 * 100 * 0.02  # data + artifacts, 100 GiB each = 4
    homes = 3 * 50 * 0.1  # bob, alice, carol x 50Gi       = 15
    always = eks + nat + kms + kafka + ecr + s3 + homes
    assert report.idle == pytest.approx(always + 1 * small)  # 361
    assert report.peak == pytest.approx(always + 10 * small + 4 * large + 2 * gpu)  # 7411
    assert report.by_capability()["network"] == (pytest.approx(nat), pytest.approx(nat))
    assert report.budget == 4000 and report.org_cap == 20000
    # scheduled compute, apart: runs a month x timeout x one node of the tier (2025's days)
    nightly = 365 / 12
    retrain = nightly * 2 * 0.5  # 2 h on large spot                     = 30.42
    features = nightly * (0.5 * 0.1 + 0.75 * 2.0 + 0.25 * 0.1)  # small, gpu, small = 47.91
    etl = 52 / 12 * 1 * (0.1 + 8 * 0.5)  # Sundays, driver small + 8 large = 17.77
    assert report.scheduled == pytest.approx(retrain + features + etl, abs=0.02)  # 96.1
    assert report.over("peak") == ["peak estimate $7,411.00 exceeds the team budget $4,000.00"]
    assert report.over("idle") == []


def test_the_bundled_price_table_states_region_and_date_and_prices_every_allowed_type() -> None:
    table = price_table()
    assert table["region"] and table["date"]
    for name in ("fraud", "vision"):
        env = example(name)
        report = estimate(env.graph, env.spec, table)
        assert report.warnings == []  # every instance type the examples use has a price
        assert report.idle > 0 and report.peak >= report.idle


def test_cli_fail_over_budget_exits_1_on_the_chosen_basis(prices_file: Path) -> None:
    profile = str(PROFILES / "fraud.yaml")
    over = runner.invoke(app, ["cost", profile, "--prices", str(prices_file), "--fail-over-budget"])
    assert over.exit_code == 1
    assert "exceeds the team budget" in over.output
    idle = runner.invoke(
        app,
        ["cost", profile, "--prices", str(prices_file), "--fail-over-budget", "--basis", "idle"],
    )
    assert idle.exit_code == 0, idle.output
    as_json = runner.invoke(
        app, ["cost", profile, "--prices", str(prices_file), "--format", "json"]
    )
    data = json.loads(as_json.stdout)
    assert data["prices"] == {"region": "test-region-1", "date": "2000-01-01"}
    assert data["monthly"] == {"idle": 361.0, "peak": 7411.0, "scheduled": 96.1}


def test_quantities_convert_to_gib() -> None:
    assert gib("100Gi") == 100 and gib("1Ti") == 1024 and gib(20) == 20
    assert gib("512Mi") == 0.5


def test_a_region_without_a_price_table_is_priced_with_a_warning(tmp_path: Path) -> None:
    profile = edited(
        tmp_path,
        "fraud",
        (
            "owners: [alice@acme.example]\n",
            "owners: [alice@acme.example]\ntarget: {region: us-east-1}\n",
        ),
    )
    env = offline(profile)
    report = estimate(env.graph, env.spec, price_table())
    assert report.warnings[0].startswith("no price table for us-east-1: priced with the eu-west-1")
    assert "> [!WARNING]" in render_markdown(report)
    own = tmp_path / "us.yaml"
    own.write_text("region: us-east-1\ndate: '2025-11-01'\n")
    priced = estimate(env.graph, env.spec, price_table(own))
    assert not any(w.startswith("no price table") for w in priced.warnings)
    home = estimate(example("fraud").graph, example("fraud").spec, price_table())
    assert not any(w.startswith("no price table") for w in home.warnings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("instances: {m7i.large: 3}\n", "instances.m7i.large must be a mapping, not the number 3"),
        ("hours_per_month: lots\n", "hours_per_month must be a number, not the text 'lots'"),
        ("eks_cluster_hours: 0.1\n", "unknown key 'eks_cluster_hours'"),
        ("instances: {x1.large: {on_demand: 1}}\n", "instances.x1.large needs spot"),
        ("msk: {brokers: {kafka.m9.large: -1}}\n", "must not be negative, got -1"),
        ("- 1\n", "expected a mapping at the top level"),
    ],
)
def test_a_price_table_of_the_wrong_shape_is_a_usage_error(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=re.escape(message)):
        price_table(path)


def test_a_price_table_may_add_an_instance_type_and_override_one_price(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("instances: {x9.large: {on_demand: 1, spot: 0.5}, m7i.large: {spot: 0.01}}\n")
    table = price_table(path)
    assert table["instances"]["x9.large"] == {"on_demand": 1, "spot": 0.5}
    assert table["instances"]["m7i.large"]["spot"] == 0.01
    assert table["instances"]["m7i.large"]["on_demand"] > 0


def test_emr_serverless_peak_is_priced_by_vcpu_and_gb_not_as_bytes() -> None:
    env = example("vision")
    table = price_table()
    app_ = next(r for r in env.graph if r.type == "aws:emrserverless/application:Application")
    cap = app_.inputs["maximumCapacity"]
    vcpu, gb = float(cap["cpu"].split()[0]), float(cap["memory"].split()[0])
    assert cap["cpu"].endswith(" vCPU") and vcpu > 100  # e.g. "178.5 vCPU": 51 workers of 3.5
    report = estimate(env.graph, env.spec, table)
    (line,) = [ln for ln in report.lines if ln.resource.endswith(app_.name)]
    hours = table["hours_per_month"]
    expected = (
        vcpu * table["emr_serverless"]["vcpu_hour"] + gb * table["emr_serverless"]["gb_hour"]
    ) * hours
    assert line.idle == 0 and line.peak == pytest.approx(expected) and line.peak > 1000


def test_an_instance_type_without_a_price_is_an_error_not_zero(prices_file: Path) -> None:
    table = price_table(prices_file)
    del table["instances"]["g5.2xlarge"]
    env = example("fraud")
    with pytest.raises(UsageError, match=r"no price for instance type g5\.2xlarge .*--prices"):
        estimate(env.graph, env.spec, table)


def test_a_gpu_node_group_line_names_the_gpus_of_each_node() -> None:
    env = example("vision")
    report = estimate(env.graph, env.spec, price_table())
    labels = [ln.item for ln in report.lines if "g6.12xlarge" in ln.item]
    assert labels and "4 x NVIDIA L4 a node" in labels[0]
