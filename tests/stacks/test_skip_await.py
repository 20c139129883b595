"""`DSENV_SKIP_AWAIT`: the program asks the Kubernetes provider not to wait for readiness,
on every Kubernetes object and Helm release it registers, and on nothing else."""

from __future__ import annotations

import pytest
from testkit import spec_of

from dsenv.live.programs import skip_await
from dsenv.offline.capture import capture
from dsenv.offline.collector import collector_paused
from dsenv.stacks.components.kube import SKIP_AWAIT_ANNOTATION


def _graph(name: str, *, no_wait: bool) -> dict[str, dict[str, object]]:
    spec = spec_of(name)
    with collector_paused():
        from dsenv.stacks.program import program

        region = spec.aws.region if spec.aws else "us-east-1"
        graph = capture(
            lambda: program(spec, skip_await=no_wait), stack=spec.stack_name, region=region
        )
    return {r.urn: r.inputs for r in graph}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["genomics", "fraud"])
def test_every_kubernetes_object_and_release_skips_await_when_asked(name: str) -> None:
    plain = _graph(name, no_wait=False)
    marked = _graph(name, no_wait=True)
    assert plain.keys() == marked.keys()
    kube = 0
    for urn, inputs in marked.items():
        type_ = urn.split("::")[2].rsplit("$", 1)[-1]
        before = plain[urn]
        if type_ == "kubernetes:helm.sh/v3:Release":
            assert inputs == {**before, "skipAwait": True}, urn
        elif type_.startswith("kubernetes:"):
            kube += 1
            annotations = inputs["metadata"]["annotations"]  # type: ignore[index]
            assert annotations[SKIP_AWAIT_ANNOTATION] == "true", urn
            # nothing else changes: the other annotations are kept
            rest = {k: v for k, v in annotations.items() if k != SKIP_AWAIT_ANNOTATION}  # type: ignore[union-attr]
            assert rest == ((before.get("metadata") or {}).get("annotations") or {}), urn  # type: ignore[union-attr]
        else:
            assert inputs == before, urn  # providers, AWS resources, components
        assert SKIP_AWAIT_ANNOTATION not in str(before)
    assert kube > 10


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("0", False), ("false", False), ("true", True), ("1", True)],
)
def test_the_environment_switch(value: str | None, expected: bool) -> None:
    env = {} if value is None else {"DSENV_SKIP_AWAIT": value}
    assert skip_await(env) is expected
