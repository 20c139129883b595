"""What one node of a tier offers a workspace (spec/fit.py), and `dsenv validate` refusing
tiers that do not fit, at the tier's line, naming the most that fits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsenv.cli.app import app
from dsenv.spec import fit

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT.parent / "shared" / "upstream" / "eks-node-data"
runner = CliRunner()


def test_kube_reserved_cpu_follows_the_eks_ami_table() -> None:
    # nodeadm getCPUMillicoresToReserve: 6 % of core 1, 1 % of core 2, 0.5 % of cores 3-4,
    # 0.25 % beyond
    assert fit.kube_reserved_cpu_millis(1) == 60
    assert fit.kube_reserved_cpu_millis(2) == 70
    assert fit.kube_reserved_cpu_millis(4) == 80
    assert fit.kube_reserved_cpu_millis(16) == 110
    assert fit.kube_reserved_cpu_millis(48) == 190


def test_m7i_large_offers_less_than_two_cpus_and_eight_gib() -> None:
    node = fit.allocatable(fit.catalog()["m7i.large"])
    assert node.cpu_millis == 1930  # 2000 - 70
    # 8 GiB less 7.5 % VM overhead, 255 + 11 x 29 pods kube-reserved, 100Mi eviction
    assert node.memory_mib == 7577 - (255 + 11 * 29) - 100
    names = {d.name for d in node.daemons}
    assert {"vpc-cni", "kube-proxy", "aws-ebs-csi-driver node"} <= names
    assert "nvidia-device-plugin" not in names
    assert not fit.fits(node, 2000, 8 * 2**30, 0)
    assert fit.fits(node, 1500, 6 * 2**30, 0)


def test_gpu_nodes_carry_the_device_plugin_among_their_daemons() -> None:
    node = fit.allocatable(fit.catalog()["g5.2xlarge"])
    assert "nvidia-device-plugin" in {d.name for d in node.daemons}
    assert node.instance.gpus == 1 and node.instance.gpu_model == "NVIDIA A10G"


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="../shared/upstream/eks-node-data not present")
def test_catalog_max_pods_match_the_eks_ami_eni_table() -> None:
    info = {}
    for line in (UPSTREAM / "instance-info.jsonl").read_text().splitlines():
        row = json.loads(line)
        info[row["instanceType"]] = row
    for name, instance in fit.catalog().items():
        row = info[name]
        assert (
            instance.max_pods == row["defaultMaxENIs"] * (row["ipv4AddressesPerInterface"] - 1) + 2
        )


def test_smallest_fitting_prefers_the_family_and_respects_patterns() -> None:
    found = fit.smallest_fitting(2000, 8 * 2**30, 0, ["m7i.*", "r7i.*"], "m7i")
    assert found is not None and found.name == "m7i.xlarge"
    found = fit.smallest_fitting(2000, 8 * 2**30, 0, ["r7i.*"], "m7i")
    assert found is not None and found.name == "r7i.xlarge"  # no 2-vCPU node offers 2 CPUs
    assert fit.smallest_fitting(10**6, 2**30, 0) is None


OLD_FRAUD_TIERS = """\
tiers:
  small: {cpu: 2, memory: 8Gi, instance_types: [m7i.large], min_nodes: 1, max_nodes: 10}
  large: {cpu: 16, memory: 64Gi, instance_types: [r7i.4xlarge], spot: true, max_nodes: 4}
  gpu:   {cpu: 8, memory: 32Gi, gpus: 1, instance_types: [g5.2xlarge], min_nodes: 0, max_nodes: 2}
"""


def test_validate_refuses_the_former_fraud_tiers_naming_what_fits(tmp_path: Path) -> None:
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "acme.yaml").write_text((ROOT / "profiles/org/acme.yaml").read_text())
    text = (ROOT / "profiles/fraud.yaml").read_text()
    start, end = text.index("tiers:\n"), text.index("groups:\n")
    profile = tmp_path / "fraud.yaml"
    profile.write_text(text[:start] + OLD_FRAUD_TIERS + text[end:])
    line = text[:start].count("\n") + 1
    result = runner.invoke(app, ["validate", str(profile)])
    assert result.exit_code == 2
    err = " ".join(result.stderr.split())  # the console may wrap long lines
    assert f"fraud.yaml:{line + 1}:3: tiers.small: a workspace of cpu 2 and memory 8Gi" in err
    assert "offers at most cpu 1750m and memory 6719Mi" in err
    assert "the smallest listed instance type it fits is m7i.xlarge" in err
    assert f"fraud.yaml:{line + 2}:3: tiers.large" in err and "r7i.8xlarge" in err
    assert f"fraud.yaml:{line + 3}:3: tiers.gpu" in err and "g5.4xlarge" in err


def test_the_examples_fit_their_nodes() -> None:
    result = runner.invoke(app, ["validate", str(ROOT / "profiles")])
    assert result.exit_code == 0, result.output
