"""The inline program for a spec: dsenv's Pulumi program from `dsenv.stacks`, imported
only when an engine operation needs it."""

from __future__ import annotations

from collections.abc import Callable

from dsenv.spec.model import EnvironmentSpec


def program_for(spec: EnvironmentSpec) -> Callable[[], None]:
    def run() -> None:
        from dsenv.stacks.program import program  # type: ignore[import-not-found,unused-ignore]

        program(spec)

    return run
