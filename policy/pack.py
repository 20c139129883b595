"""dsenv's security rules as a Pulumi CrossGuard policy pack.

Each rule of `dsenv.offline.rules` becomes one stack validation policy. The engine's view of
the stack (every resource with its inputs, parent and dependencies) is turned into the same
`ResourceGraph` that `dsenv check` builds offline, and the same rule function runs on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from dsenv.capabilities import capability_of
from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.offline.rules import RULES, Rule, run_rules


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def graph_of(resources: Iterable[PolicyResource]) -> ResourceGraph:
    """The engine's resources as a ResourceGraph (components included when the engine
    reports them)."""
    out = []
    for r in resources:
        deps = {d.urn for d in r.dependencies or []}
        for prop_deps in (r.property_dependencies or {}).values():
            deps.update(d.urn for d in prop_deps)
        opts = r.opts
        out.append(
            Resource(
                urn=r.urn,
                type=r.resource_type,
                name=r.name,
                custom=not r.resource_type.startswith("dsenv:"),
                parent=r.parent.urn if r.parent is not None else None,
                dependencies=tuple(sorted(deps)),
                inputs=_plain(r.props),
                protect=bool(getattr(opts, "protect", False)),
                delete_before_replace=bool(getattr(opts, "delete_before_replace", False)),
                ignore_changes=tuple(getattr(opts, "ignore_changes", None) or ()),
                capability=capability_of(r.urn),
            )
        )
    stack = out[0].urn.split("::")[0].removeprefix("urn:pulumi:") if out else ""
    return ResourceGraph(stack=stack, project="dsenv", resources=sorted(out, key=lambda x: x.urn))


def _validator(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for finding in run_rules(graph_of(args.resources), [rule]):
            where = f" ({finding.path})" if finding.path else ""
            report_violation(
                f"[{finding.severity}] {finding.type} {finding.name}{where}: {finding.message}",
                finding.urn,
            )

    return validate


def policies() -> list[Policy]:
    """One policy per dsenv rule: critical and high rules block an update, the rest advise."""
    return [
        StackValidationPolicy(
            name=f"dsenv-{rule.id}",
            description=rule.description,
            validate=_validator(rule),
            enforcement_level=EnforcementLevel.MANDATORY
            if rule.severity in ("critical", "high")
            else EnforcementLevel.ADVISORY,
        )
        for rule in RULES
    ]
