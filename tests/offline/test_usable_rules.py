"""`dsenv check`'s usable-* rules on the captured graph: the examples pass, and a plan JSON
edited to break fit, the GPU device plugin, the hub's route, NetworkPolicy enforcement or
cluster access makes the matching rule fire."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from offline_kit import EXAMPLES, GOLDEN, example

from dsenv.offline.graph import graph_from_json
from dsenv.offline.rules import USABLE_RULES, run_rules

Plan = dict[str, Any]


def plan(name: str) -> Plan:
    """The example's plan JSON, as `dsenv plan --format json` writes it (the golden copy)."""
    return json.loads((GOLDEN / f"{name}.plan.json").read_text())  # type: ignore[no-any-return]


def usable(data: Plan) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in run_rules(graph_from_json(data), USABLE_RULES):
        found.setdefault(f.rule, []).append(f.message)
    return found


def resources(data: Plan, type_: str) -> list[dict[str, Any]]:
    return [r for r in data["resources"] if r["type"] == type_]


def release(data: Plan, chart: str) -> dict[str, Any]:
    (found,) = [
        r
        for r in resources(data, "kubernetes:helm.sh/v3:Release")
        if str(r["inputs"]["chart"]).endswith(chart)
    ]
    return found


def drop(data: Plan, pred: Callable[[dict[str, Any]], bool]) -> Plan:
    out = copy.deepcopy(data)
    out["resources"] = [r for r in out["resources"] if not pred(r)]
    return out


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_examples_are_usable(name: str) -> None:
    assert run_rules(example(name).graph, USABLE_RULES) == []


def test_the_golden_plans_are_the_captured_graphs() -> None:
    assert usable(plan("fraud")) == {} and usable(plan("vision")) == {}


def test_a_workspace_larger_than_its_node_fires_usable_fit() -> None:
    data = copy.deepcopy(plan("fraud"))
    hub = release(data, "jupyterhub")
    small = hub["inputs"]["values"]["singleuser"]["profileList"][0]["kubespawner_override"]
    small["cpu_guarantee"] = 2  # the former tier: 2 CPU on an m7i.large
    found = usable(data)
    assert list(found) == ["usable-fit"]
    (message,) = found["usable-fit"]
    assert "requests cpu 2000m" in message and "m7i.large node of tier small" in message
    assert "cpu 1750m" in message


def test_a_node_group_on_a_smaller_instance_type_fires_usable_fit() -> None:
    data = copy.deepcopy(plan("fraud"))
    for group in resources(data, "aws:eks/nodeGroup:NodeGroup"):
        if group["inputs"]["labels"]["dsenv.io/tier"] == "large":
            group["inputs"]["instanceTypes"] = ["r7i.2xlarge"]
    assert "r7i.2xlarge node of tier large" in " ".join(usable(data)["usable-fit"])


def test_heavier_node_daemons_fire_usable_fit() -> None:
    data = copy.deepcopy(plan("fraud"))
    for addon in resources(data, "aws:eks/addon:Addon"):
        if addon["inputs"]["addonName"] == "kube-proxy":
            addon["inputs"]["configurationValues"] = json.dumps(
                {"resources": {"requests": {"cpu": "500m"}}}
            )
    assert "tier small" in " ".join(usable(data)["usable-fit"])


def test_a_gpu_tier_without_the_device_plugin_fires_usable_gpu_plugin() -> None:
    data = drop(plan("vision"), lambda r: str(r["inputs"].get("chart")) == "nvidia-device-plugin")
    found = usable(data)["usable-gpu-plugin"]
    assert len(found) == 2  # a10g and l4x4
    assert all("no NVIDIA device plugin" in m for m in found)


def test_a_hub_host_without_its_ingress_or_certificate_fires_usable_hub_route() -> None:
    data = drop(plan("fraud"), lambda r: r["type"] == "kubernetes:networking.k8s.io/v1:Ingress")
    (message,) = usable(data)["usable-hub-route"]
    assert "https://hub.fraud.acme.example" in message and "no Ingress routes" in message
    data = drop(plan("fraud"), lambda r: r["type"] == "aws:acm/certificate:Certificate")
    (message,) = usable(data)["usable-hub-route"]
    assert "no certificate for hub.fraud.acme.example" in message
    data = drop(plan("fraud"), lambda r: str(r["inputs"].get("chart")) == "external-dns")
    assert "nothing keeps a DNS record" in usable(data)["usable-hub-route"][0]


def test_network_policies_without_enforcement_fire_usable_netpol_enforced() -> None:
    data = copy.deepcopy(plan("fraud"))
    for addon in resources(data, "aws:eks/addon:Addon"):
        if addon["inputs"]["addonName"] == "vpc-cni":
            config = json.loads(addon["inputs"]["configurationValues"])
            del config["enableNetworkPolicy"]
            addon["inputs"]["configurationValues"] = json.dumps(config)
    (message,) = usable(data)["usable-netpol-enforced"]
    assert "are not enforced" in message and "metadata-server block" in message


def test_no_access_entry_fires_usable_cluster_access() -> None:
    data = drop(plan("fraud"), lambda r: r["type"].startswith("aws:eks/access"))
    (message,) = usable(data)["usable-cluster-access"]
    assert "nobody but the cluster's creator" in message
