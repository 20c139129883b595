"""Tiers on target kubernetes: the org's GPU cap counts max_pods, explain shows only the
target's own tier keys, and the registry and label checks accept what real clusters use."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsenv.errors import ProfileError
from dsenv.profile.explain import explain
from dsenv.profile.fields import ValidationError, validate
from dsenv.profile.load import load_team
from dsenv.profile.model import AWS_TIER_KEYS, Target, Tier

ROOT = Path(__file__).resolve().parents[2]

ORG = """\
apiVersion: dsenv/v1
kind: Org
name: lab
target: {provider: kubernetes}
constraints: {max_gpus_per_team: 4}
"""
TEAM = """\
apiVersion: dsenv/v1
kind: Team
name: t
extends: org.yaml
tiers:
  gpu: {cpu: 8, memory: 32Gi, gpus: 2, max_pods: MAX}
"""


def _team(tmp_path: Path, max_pods: int) -> Path:
    (tmp_path / "org.yaml").write_text(ORG, encoding="utf-8")
    path = tmp_path / "t.yaml"
    path.write_text(TEAM.replace("MAX", str(max_pods)), encoding="utf-8")
    return path


def test_the_org_gpu_cap_counts_gpus_times_max_pods(tmp_path: Path) -> None:
    assert load_team(_team(tmp_path, 2)).team.tiers["gpu"].max_pods == 2  # 4 GPUs: allowed
    with pytest.raises(ProfileError) as info:
        load_team(_team(tmp_path, 3))
    (problem,) = info.value.problems
    assert problem.path == "tiers.gpu.max_pods"
    assert (
        "the team can reach 6 GPUs (gpus x max_pods over all tiers); at most 4" in problem.message
    )


def test_explain_shows_only_the_targets_own_tier_keys() -> None:
    rows = {r.key for r in explain(load_team(ROOT / "profiles" / "genomics.yaml"), "tiers.a100")}
    assert "tiers.a100.max_pods" in rows and "tiers.a100.gpu_resource" in rows
    assert not [k for k in rows if k.split(".")[2] in AWS_TIER_KEYS]
    aws = {r.key for r in explain(load_team(ROOT / "profiles" / "fraud.yaml"), "tiers.gpu")}
    assert "tiers.gpu.instance_types" in aws and "tiers.gpu.node_selector" not in aws


@pytest.mark.parametrize(
    "registry",
    [
        "ghcr.io/acme",
        "harbor.lab.example/research/images",
        "acme.jfrog.io/docker-local",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        "registry.lab.example:5000",
        "localhost:5001/dev",
        "europe-docker.pkg.dev/acme-prod/team",
        "acme.azurecr.io",
    ],
)
def test_real_registries_are_registry_references(registry: str) -> None:
    assert validate(Target, {"provider": "kubernetes", "registry": registry}).registry == registry


@pytest.mark.parametrize(
    "registry",
    ["acme", "ghcr.io/Acme", "ghcr.io/acme/", "ghcr.io/acme@sha256:abc", "docker://ghcr.io/a", ""],
)
def test_what_is_not_a_registry_reference_is_refused(registry: str) -> None:
    with pytest.raises(ValidationError):
        validate(Target, {"provider": "kubernetes", "registry": registry})


def test_selectors_take_the_labels_gpu_feature_discovery_and_clouds_write() -> None:
    labels = {
        "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB",
        "cloud.google.com/gke-nodepool": "gpu-pool",
        "kubernetes.azure.com/agentpool": "gpunp",
        "node.institute.org/pool": "a100",
        "gpu": "",
    }
    tier = validate(Tier, {"cpu": 1, "memory": "1Gi", "node_selector": labels})
    assert tier.node_selector == labels
    with pytest.raises(ValidationError):
        validate(Tier, {"cpu": 1, "memory": "1Gi", "node_selector": {"a" * 64: "x"}})
    with pytest.raises(ValidationError):
        validate(Tier, {"cpu": 1, "memory": "1Gi", "node_selector": {"pool": "-bad-"}})
