"""The hub's gate in a real KubeSpawner (jupyterhub-kubespawner from PyPI, a dev dependency):
the generated profile-list hook, loaded from the captured chart values as the chart's
`hub.extraConfig` is, offers each user the tiers of their groups and refuses a signed-in user
in no group (KubeSpawner alone would start such a user on the chart's defaults)."""

from __future__ import annotations

import asyncio
import sys
import types
from typing import Any

import pytest
from testkit import graph_of

kubespawner = pytest.importorskip(
    "kubespawner", reason="jupyterhub-kubespawner (dev extra) missing"
)
from tornado import web  # noqa: E402  (jupyterhub's dependency, there with kubespawner)
from traitlets.config import Config  # noqa: E402


@pytest.fixture(autouse=True)
def kubeconfig(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """KubeSpawner loads a kubeconfig when it is created; these tests never reach a cluster."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: none\n"
        "clusters: [{name: none, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: none, user: {token: unused}}]\n"
        "contexts: [{name: none, context: {cluster: none, user: none}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(path))
    from kubernetes_asyncio.config import kube_config  # read KUBECONFIG when imported

    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)


def hub_values(profile: str) -> dict[str, Any]:
    (release,) = [
        r.inputs
        for r in graph_of(profile).of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "jupyterhub"
    ]
    return release["values"]  # type: ignore[no-any-return]


def load_hook(values: dict[str, Any]) -> Config:
    """Run `hub.extraConfig` as z2jh's jupyterhub_config.py does: `c` a traitlets Config,
    `z2jh.get_config` reading the chart values."""

    def get_config(key: str, default: Any = None) -> Any:
        node: Any = values
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    module = types.ModuleType("z2jh")
    module.get_config = get_config  # type: ignore[attr-defined]
    saved = sys.modules.get("z2jh")
    sys.modules["z2jh"] = module
    config = Config()
    try:
        for name, snippet in values["hub"]["extraConfig"].items():
            exec(compile(snippet, name, "exec"), {"c": config})
    finally:
        if saved is None:
            del sys.modules["z2jh"]
        else:
            sys.modules["z2jh"] = saved
    return config


def start(values: dict[str, Any], user: str, slug: str | None = None) -> Any:
    """A KubeSpawner for `user` (a member of the groups the values load), with the hook's
    profile list, loading the options a spawn request would send; the spawner."""
    config = load_hook(values)
    groups = values["hub"]["config"]["JupyterHub"]["load_groups"]
    member_of = [
        types.SimpleNamespace(name=g) for g, spec in groups.items() if user in spec["users"]
    ]
    fake_user = types.SimpleNamespace(
        name=user, escaped_name=user, id=1, groups=member_of, url=f"/user/{user}/", spawners={}
    )

    async def spawn() -> Any:
        spawner = kubespawner.KubeSpawner(config=config, _mock=True, user=fake_user)
        spawner.user_options = {"profile": slug} if slug else {}
        await spawner.load_user_options()
        return spawner

    loop = asyncio.new_event_loop()  # not asyncio.run: it unsets the thread's loop, which the
    try:  # Pulumi mock runtime of the other tests needs
        return loop.run_until_complete(spawn())
    finally:
        loop.close()


def test_a_user_in_no_group_cannot_start_a_server() -> None:
    values = hub_values("fraud")
    with pytest.raises(web.HTTPError) as refused:
        start(values, "mallory")
    assert refused.value.status_code == 403
    with pytest.raises(web.HTTPError):
        start(values, "mallory", "small")  # nor by naming a tier


def test_a_group_member_starts_on_their_tiers_only() -> None:
    values = hub_values("fraud")
    bob = start(values, "bob")  # analysts: small
    assert bob.node_selector == {"dsenv.io/tier": "small"}
    assert bob.cpu_guarantee == 1.5
    with pytest.raises(ValueError):
        start(values, "bob", "gpu")  # not offered to analysts
    alice = start(values, "alice", "gpu")  # scientists: small, large, gpu
    assert alice.extra_resource_limits == {"nvidia.com/gpu": "1"}
    assert alice.node_selector == {"dsenv.io/tier": "gpu"}


def test_a_team_without_groups_lets_everyone_use_every_tier() -> None:
    values = hub_values("sandbox")
    for profile in values["singleuser"]["profileList"]:
        assert start(values, "anyone", profile["slug"]).node_selector is not None
