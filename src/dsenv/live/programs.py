"""The inline program for a spec: dsenv's Pulumi program from `dsenv.stacks`, imported
only when an engine operation needs it.

`DSENV_SKIP_AWAIT=true` makes the program create every Kubernetes object without waiting for
it to become ready (the `pulumi.com/skipAwait` annotation, `dsenv.stacks.components.kube`):
for a cluster where nothing can become ready, such as a control plane without nodes (the
end-to-end tests). It is part of what the program declares, so every command on a stack
(up, preview, drift, refresh, destroy) must run with the same setting.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from dsenv.spec.model import EnvironmentSpec

SKIP_AWAIT_ENV = "DSENV_SKIP_AWAIT"


def skip_await(env: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if env is None else env).get(SKIP_AWAIT_ENV, "")
    return value.strip().lower() not in ("", "0", "false", "no")


def program_for(spec: EnvironmentSpec) -> Callable[[], None]:
    no_wait = skip_await()

    def run() -> None:
        from dsenv.stacks.program import program  # type: ignore[import-not-found,unused-ignore]

        program(spec, skip_await=no_wait)

    return run
