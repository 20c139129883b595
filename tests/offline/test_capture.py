"""The offline capture records what the program asks of the engine, exactly and repeatably."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from dsenv.offline.capture import capture
from dsenv.offline.graph import SECRET_MASK


class _Thing(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dsenv:kafka:Thing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = k8s.core.v1.Namespace("ns", metadata={"name": "team"}, opts=child)
        k8s.core.v1.Secret(
            "creds",
            metadata={"namespace": "team", "name": "creds"},
            string_data={"password": pulumi.Output.secret("hunter2")},
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[ns], protect=True, delete_before_replace=True
            ),
        )
        pulumi.export("namespace", ns.metadata.apply(lambda m: m["name"]))
        pulumi.export("password", pulumi.Output.secret("hunter2"))
        self.register_outputs({})


def test_capture_records_types_parents_dependencies_and_options() -> None:
    graph = capture(lambda: _Thing("t"), stack="dev")
    secret = graph.named("creds")
    component = graph.named("t")
    assert component.type == "dsenv:kafka:Thing" and not component.custom
    assert secret.parent == component.urn
    assert graph.named("ns").urn in secret.dependencies
    assert secret.protect and secret.delete_before_replace
    assert {r.capability for r in graph} == {"kafka"}


def test_urns_follow_the_engine_rule_for_nested_types() -> None:
    graph = capture(lambda: _Thing("t"), stack="dev")
    assert graph.named("t").urn == "urn:pulumi:dev::dsenv::dsenv:kafka:Thing::t"
    assert (
        graph.named("ns").urn
        == "urn:pulumi:dev::dsenv::dsenv:kafka:Thing$kubernetes:core/v1:Namespace::ns"
    )


def test_secret_values_never_reach_the_graph() -> None:
    graph = capture(lambda: _Thing("t"), stack="dev")
    assert graph.named("creds").inputs["stringData"] == SECRET_MASK
    assert graph.outputs == {"namespace": "team", "password": SECRET_MASK}
    assert "hunter2" not in repr(graph.to_json())


def test_capture_is_deterministic_and_isolated_between_runs() -> None:
    first = capture(lambda: _Thing("t"), stack="dev").to_json()
    second = capture(lambda: _Thing("t"), stack="dev").to_json()
    assert first == second
    other = capture(lambda: None, stack="empty")
    assert other.resources == [] and other.outputs == {}


class _TwiceRegistered(pulumi.ComponentResource):
    """A deliberately broken component: two children under one logical name."""

    def __init__(self, name: str) -> None:
        super().__init__("dsenv:cluster:Broken", name, None, None)
        child = pulumi.ResourceOptions(parent=self)
        for _ in range(2):
            k8s.core.v1.ConfigMap("same", metadata={"name": "a"}, opts=child)
        self.register_outputs({})


def test_capture_refuses_a_resource_urn_registered_twice() -> None:
    """The engine refuses a duplicate URN; the capture must not quietly keep one of them
    and report a smaller plan."""
    import pytest

    from dsenv.errors import OperationalError

    with pytest.raises(OperationalError, match="registers a resource URN more than once") as err:
        capture(lambda: _TwiceRegistered("broken"), stack="dev")
    assert "dsenv:cluster:Broken$kubernetes:core/v1:ConfigMap::same" in str(err.value)
