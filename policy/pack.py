"""dsenv's security rules as a Pulumi CrossGuard policy pack.

Each rule of `dsenv.offline.rules` becomes one stack validation policy. The engine's view of
the stack (every resource with its properties, parent and dependencies) is turned into the
same `ResourceGraph` that `dsenv check` builds offline, and the same rule function runs on it.

How the policy SDK hands the values over (pulumi_policy `policy.py`,
`_PolicyAnalyzerServicer.AnalyzeStack`, and `proxy.py`): every property map and list arrives
wrapped in a `_DictProxy` / `_ListProxy`, which raise `UnknownValueError` when an unknown
value is read. The pack unwraps them (through the proxies' own `"__target"` key, as the SDK's
`serialize_properties` does) into the plain data the rules read, with unknowns as the
offline capture's `[computed]`.

Unknowns during preview: a value computed by the cloud (an ARN, a policy document built from
one) is unknown until the update. The pack notes every unknown a rule reads; a finding that
rests on one cannot be decided yet and is not a violation. The SDK then reports "can't run
policy ... during preview" as advisory, and the same rule runs again with real values during
`pulumi up`. Findings that read no unknown are reported as usual, so one unknown ARN does not
switch a rule off for the whole stack.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import proxy as policy_proxy

from dsenv.capabilities import capability_of
from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.offline.rules import RULES, Finding, Hit, Rule

#: What the offline capture writes for a value not known until the update.
UNKNOWN_MASK = "[computed]"
_SENTINELS = frozenset(
    {
        policy_proxy.UNKNOWN_BOOLEAN_VALUE,
        policy_proxy.UNKNOWN_NUMBER_VALUE,
        policy_proxy.UNKNOWN_STRING_VALUE,
        policy_proxy.UNKNOWN_ARRAY_VALUE,
        policy_proxy.UNKNOWN_ASSET_VALUE,
        policy_proxy.UNKNOWN_ARCHIVE_VALUE,
        policy_proxy.UNKNOWN_OBJECT_VALUE,
    }
)


class Unknown(str):
    """An unknown value: reads as `[computed]`, and is noted when a rule reads it."""

    __slots__ = ()


class _Reads(threading.local):
    def __init__(self) -> None:
        self.since_last_hit = False
        self.owners: set[str] = set()

    def note(self, value: Any, owner: str) -> Any:
        if isinstance(value, Unknown):
            self.since_last_hit = True
            self.owners.add(owner)
        return value


_READS = _Reads()


class _Map(dict[str, Any]):
    """A property map whose reads of unknown values are noted (rules use get, [], items,
    values; `isinstance(x, Mapping)` holds)."""

    owner = ""

    def __getitem__(self, key: str) -> Any:
        return _READS.note(super().__getitem__(key), self.owner)

    def get(self, key: str, default: Any = None) -> Any:
        return _READS.note(super().get(key, default), self.owner)

    def items(self) -> Any:
        return [(k, _READS.note(v, self.owner)) for k, v in super().items()]

    def values(self) -> Any:
        return [_READS.note(v, self.owner) for v in super().values()]


class _List(list[Any]):
    owner = ""

    def __getitem__(self, index: Any) -> Any:
        return _READS.note(super().__getitem__(index), self.owner)

    def __iter__(self) -> Iterator[Any]:
        return (_READS.note(v, self.owner) for v in super().__iter__())

    def __contains__(self, value: object) -> bool:
        for item in super().__iter__():
            _READS.note(item, self.owner)
        return super().__contains__(value)


def _unwrap(value: Any) -> Any:
    """The SDK's proxies, without triggering their unknown check."""
    if isinstance(value, policy_proxy._DictProxy | policy_proxy._ListProxy):
        return _unwrap(value["__target"])
    return value


def plain(value: Any, owner: str = "") -> Any:
    """Policy SDK values as the rules read them: maps and lists (proxied or not) as plain
    containers that note unknown reads, unknown sentinels as `Unknown("[computed]")`."""
    value = _unwrap(value)
    if isinstance(value, Mapping):
        pairs = dict.items(value) if isinstance(value, dict) else [(k, value[k]) for k in value]
        out = _Map({str(k): plain(v, owner) for k, v in pairs})
        out.owner = owner
        return out
    if isinstance(value, list | tuple):
        items = _List(plain(v, owner) for v in value)
        items.owner = owner
        return items
    if isinstance(value, str) and value in _SENTINELS:
        return Unknown(UNKNOWN_MASK)
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
        inputs = plain(r.props, r.urn)
        out.append(
            Resource(
                urn=r.urn,
                type=r.resource_type,
                name=r.name,
                custom=not r.resource_type.startswith("dsenv:"),
                parent=r.parent.urn if r.parent is not None else None,
                dependencies=tuple(sorted(deps)),
                inputs=inputs if isinstance(inputs, dict) else {},
                protect=bool(getattr(opts, "protect", False)),
                delete_before_replace=bool(getattr(opts, "delete_before_replace", False)),
                ignore_changes=tuple(getattr(opts, "ignore_changes", None) or ()),
                capability=capability_of(r.urn),
            )
        )
    stack = out[0].urn.split("::")[0].removeprefix("urn:pulumi:") if out else ""
    return ResourceGraph(stack=stack, project="dsenv", resources=sorted(out, key=lambda x: x.urn))


def decide(rule: Rule, graph: ResourceGraph) -> tuple[list[Finding], list[Hit]]:
    """(findings, undecided hits): a hit is undecided when an unknown value was read since
    the previous hit, or anywhere on the hit's own resource during the rule's run."""
    _READS.owners = set()
    hits: list[tuple[Hit, bool]] = []
    checks = iter(rule.check(graph))
    failed: Exception | None = None
    while True:
        _READS.since_last_hit = False
        try:
            hit = next(checks)
        except StopIteration:
            break
        except (TypeError, AttributeError, ValueError, KeyError) as exc:
            # a rule reading an unknown where it expects a map or a list
            failed = exc
            break
        hits.append((hit, _READS.since_last_hit))
    if failed is not None and not _READS.owners:
        raise failed
    owners = set(_READS.owners)
    decided = [h for h, unknown in hits if not unknown and h.resource.urn not in owners]
    undecided = [h for h, unknown in hits if unknown or h.resource.urn in owners]
    findings = {
        Finding(
            rule.id,
            h.severity or rule.severity,
            h.resource.urn,
            h.resource.name,
            h.resource.type,
            h.path,
            h.message,
        )
        for h in decided
    }
    if failed is not None:  # the rest of the rule could not run: undecided as a whole
        undecided.append(Hit(next(iter(graph)), "", f"{type(failed).__name__}: {failed}"))
    ordered = sorted(findings, key=lambda f: (f.urn, f.path, f.message))
    return ordered, undecided


def _validator(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        findings, undecided = decide(rule, graph_of(args.resources))
        for finding in findings:
            where = f" ({finding.path})" if finding.path else ""
            report_violation(
                f"[{finding.severity}] {finding.type} {finding.name}{where}: {finding.message}",
                finding.urn,
            )
        if undecided:
            first = undecided[0]
            # the SDK turns this into an advisory "can't run policy ... during preview"
            raise policy_proxy.UnknownValueError(
                policy_proxy.UNKNOWN_STRING_VALUE,
                [first.resource.name, *(p for p in first.path.split(".") if p)],
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
