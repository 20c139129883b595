"""`dsenv check`: schemas and security rules over the offline resource graph.

- core Kubernetes objects: `kubernetes-validate` in strict mode, for the profile's version;
- custom resources: the CRDs found under `--schemas DIR` (any `*.yaml|*.yml|*.json`, single or
  multi-document, or a `kubectl get crd -o yaml` List), the served version's
  `openAPIV3Schema`, strict about unknown fields the way the API server's strict field
  validation is (a field outside a non-preserving schema is an error, not silently pruned);
- Helm release values: a values schema found under DIR for the release's chart (see
  `find_values_schemas`), applied to the chart's defaults (a `values.yaml` beside the schema)
  deep-merged with dsenv's values, as Helm does;
- dsenv's security rules (`dsenv.offline.rules`), the same ones the CrossGuard pack runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dsenv.errors import OperationalError, UsageError
from dsenv.offline.data import deep_update
from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.offline.rules import RULES, SEVERITIES, USABLE_RULES, Finding, chart_name, run_rules


@dataclass
class Schemas:
    crds: dict[tuple[str, str], dict[str, Any]] = field(
        default_factory=dict
    )  # (apiVersion, kind) -> schema
    values: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(
        default_factory=dict
    )  # chart -> (schema, defaults)


#: libyaml when available: CRD files are large and the pure-Python parser is slow on them.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


#: CRD bundles (`kubectl get crd -o yaml` of a busy cluster) run to tens of megabytes.
SCHEMA_FILE_MAX_BYTES = 64 * 1024 * 1024


def _documents(path: Path, *, must_contain: str = "") -> Iterator[Any]:
    from dsenv.files import RefusedError, read_text

    try:
        text = read_text(path, SCHEMA_FILE_MAX_BYTES, what="schema files")
    except RefusedError as exc:
        raise UsageError(f"--schemas: {path}: {exc}") from exc
    if must_contain not in text:
        return
    if path.suffix == ".json":
        yield json.loads(text)
        return
    yield from yaml.load_all(text, Loader=_Loader)


def _crd_docs(doc: Any) -> Iterator[Mapping[str, Any]]:
    if not isinstance(doc, Mapping):
        return
    if doc.get("kind") == "CustomResourceDefinition":
        yield doc
    elif doc.get("kind") == "List" or doc.get("kind", "").endswith("List"):
        for item in doc.get("items") or []:
            yield from _crd_docs(item)


def find_values_schemas(root: Path) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Values schemas by chart name. A schema file is one of
    `<chart>.values.schema.(json|yaml|yml)`, or `values.schema.(json|yaml|yml)` in a folder
    whose `Chart.yaml` names the chart or, without one, in a folder named like the chart.
    Chart defaults come from `<chart>.values.yaml` or the folder's `values.yaml`."""
    found: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for path in sorted(root.rglob("*values.schema.*")):
        if path.suffix not in (".json", ".yaml", ".yml"):
            continue
        if path.name.startswith("values.schema."):
            chart_file = path.parent / "Chart.yaml"
            chart = path.parent.name
            if chart_file.is_file():
                meta = _first_document(chart_file)
                chart = str((meta if isinstance(meta, dict) else {}).get("name") or chart)
            defaults_file = path.parent / "values.yaml"
        else:
            chart = path.name.split(".values.schema.")[0]
            defaults_file = path.parent / f"{chart}.values.yaml"
        schema = _first_document(path)
        if not isinstance(schema, dict):
            raise UsageError(f"--schemas: {path} is not a JSON Schema (a mapping)")
        defaults = _first_document(defaults_file) if defaults_file.is_file() else {}
        found[chart] = (schema, defaults if isinstance(defaults, dict) else {})
    return found


def _first_document(path: Path) -> Any:
    try:
        return next(_documents(path), None)
    except (yaml.YAMLError, ValueError) as exc:
        raise UsageError(f"--schemas: {path} is not valid YAML or JSON: {exc}") from exc


def load_schemas(root: Path | None) -> Schemas:
    schemas = Schemas()
    if root is None:
        return schemas
    if not root.exists():
        raise UsageError(f"--schemas {root}: no such file or folder")
    if not (root.is_file() or root.is_dir()):
        from dsenv.files import regular_file_problem

        raise UsageError(f"--schemas {root}: {regular_file_problem(root)}")
    files = (
        [root]
        if root.is_file()
        else sorted(
            p for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file()
        )
    )
    for path in files:
        try:
            docs = list(_documents(path, must_contain="CustomResourceDefinition"))
        except (yaml.YAMLError, ValueError, UnicodeDecodeError):
            continue  # not every file in a chart folder is YAML we can read; skip it
        for doc in docs:
            for crd in _crd_docs(doc):
                try:
                    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
                    versions = [
                        (str(v["name"]), v)
                        for v in crd["spec"].get("versions") or []
                        if isinstance(v, Mapping)
                    ]
                except (KeyError, TypeError, AttributeError) as exc:
                    raise UsageError(
                        f"--schemas: {path} holds a CustomResourceDefinition without "
                        f"spec.group, spec.names.kind or versions[].name ({exc})"
                    ) from exc
                for name, version in versions:
                    schema = (version.get("schema") or {}).get("openAPIV3Schema")
                    if isinstance(schema, Mapping) and version.get("served", True):
                        schemas.crds[(f"{group}/{name}", kind)] = dict(schema)
    if root.is_dir():
        schemas.values = find_values_schemas(root)
    return schemas


#: The checkers `dsenv check` runs: module -> the requirement that installs it (dependencies
#: of dsenv, listed in pyproject.toml).
CHECKERS = {
    "kubernetes_validate": "kubernetes-validate>=1.31,<2",
    "jsonschema": "jsonschema>=4.23,<5",
    "parliament": "parliament>=1.6,<2",
}


def require_checkers() -> None:
    """An OperationalError (exit 3) naming what to install when a checker is missing, before
    any work: `check` never reports fewer findings because a checker is absent."""
    import importlib.util

    missing = [req for module, req in CHECKERS.items() if importlib.util.find_spec(module) is None]
    if missing:
        quoted = " ".join(f"'{m}'" for m in missing)
        raise OperationalError(
            f"dsenv check needs its checkers, and {len(missing)} of them are not installed: "
            + ", ".join(m.split(">")[0] for m in missing),
            hint=f"pip install {quoted}  (they are dependencies of dsenv: reinstalling dsenv installs them)",
        )


def check_kubernetes_version(version: str) -> str:
    """`version` if the checkers know it, else a UsageError (exit 2) listing the ones they do."""
    from dsenv.profile.model import kubernetes_version_problem

    why = kubernetes_version_problem(version)
    if why is not None:
        raise UsageError(f"--kubernetes-version: {why}")
    return version


def strict_schema(schema: Any) -> Any:
    """A structural CRD schema made strict: objects with `properties` reject unknown fields
    unless the schema preserves them; `metadata` is left to the API server."""
    if isinstance(schema, list):
        return [strict_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict_schema(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _json_path(parts: Any) -> str:
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text


@dataclass
class CheckReport:
    findings: list[Finding]
    validated: dict[str, int]  # what was checked against which schema source
    unchecked: list[str]  # resources no schema covered

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": 1,
            "kind": "dsenv-check",
            "findings": [f.to_json() for f in self.findings],
            "validated": self.validated,
            "unchecked": self.unchecked,
        }


def _finding(rule: str, severity: str, r: Resource, path: str, message: str) -> Finding:
    return Finding(rule, severity, r.urn, r.name, r.type, path, message)


def check_schemas(graph: ResourceGraph, schemas: Schemas, kubernetes_version: str) -> CheckReport:
    import jsonschema  # type: ignore[import-untyped, unused-ignore]
    import kubernetes_validate

    findings: list[Finding] = []
    validated = {"kubernetes-core": 0, "crd": 0, "chart-values": 0}
    unchecked: list[str] = []
    strict_crds: dict[tuple[str, str], Any] = {}
    for r in graph:
        if not r.custom or not r.type.startswith("kubernetes:"):
            continue
        if r.type.startswith("kubernetes:helm.sh/"):
            chart = chart_name(r)
            if chart not in schemas.values:
                unchecked.append(f"{r.type} {r.name} (no values schema for chart {chart})")
                continue
            schema, defaults = schemas.values[chart]
            values = deep_update(defaults, r.inputs.get("values") or {})
            validator = jsonschema.validators.validator_for(schema)(schema)
            for error in sorted(validator.iter_errors(values), key=lambda e: list(e.absolute_path)):
                findings.append(
                    _finding(
                        "schema-chart-values",
                        "high",
                        r,
                        _json_path(["values", *error.absolute_path]),
                        f"chart {chart} values: {error.message}",
                    )
                )
            validated["chart-values"] += 1
            continue
        if "kind" not in r.inputs:
            continue
        key = (str(r.inputs.get("apiVersion")), str(r.inputs.get("kind")))
        if key in schemas.crds:
            if key not in strict_crds:
                schema = strict_schema(schemas.crds[key])
                # metadata is the API server's to check (Argo's CRDs require it at the root)
                if "metadata" in (schema.get("required") or []):
                    schema["required"] = [k for k in schema["required"] if k != "metadata"]
                strict_crds[key] = schema
            obj = {k: v for k, v in r.inputs.items() if k != "metadata"}
            validator = jsonschema.Draft7Validator(strict_crds[key])
            for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
                findings.append(
                    _finding(
                        "schema-custom-resource",
                        "high",
                        r,
                        _json_path(error.absolute_path),
                        f"{key[1]} ({key[0]}): {error.message}",
                    )
                )
            validated["crd"] += 1
            continue
        try:
            kubernetes_validate.validate(r.inputs, kubernetes_version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            unchecked.append(f"{r.type} {r.name} (no CRD for {key[0]} {key[1]})")
            continue
        except kubernetes_validate.ValidationError as error:
            findings.append(
                _finding(
                    "schema-kubernetes",
                    "high",
                    r,
                    _json_path(error.path) or ".",
                    f"{key[1]} ({key[0]}, Kubernetes {kubernetes_version}): {error.message}",
                )
            )
        validated["kubernetes-core"] += 1
    return CheckReport(findings, validated, unchecked)


def check(
    graph: ResourceGraph,
    *,
    kubernetes_version: str,
    schemas: Schemas | None = None,
    min_severity: str = "low",
) -> CheckReport:
    report = check_schemas(graph, schemas or Schemas(), kubernetes_version)
    report.findings += run_rules(graph)
    report.validated["security-rules"] = len(RULES)
    from dsenv.offline import contracts

    paths = contracts.contracts(graph)
    report.findings += contracts.findings(graph)
    report.validated["usability-paths"] = len(paths)
    # day-one usability on the captured graph (offline only: the policy pack keeps security)
    report.findings += run_rules(graph, USABLE_RULES)
    report.validated["usable-rules"] = len(USABLE_RULES)
    limit = SEVERITIES.index(min_severity)
    report.findings = sorted(
        (f for f in report.findings if SEVERITIES.index(f.severity) <= limit),
        key=lambda f: (SEVERITIES.index(f.severity), f.rule, f.urn, f.path),
    )
    return report


def render_text(report: CheckReport) -> str:
    lines = []
    for f in report.findings:
        lines.append(
            f"{f.severity.upper():<8} {f.rule}  {f.type} {f.name}  {f.path or '.'}\n         {f.message}"
        )
    v = report.validated
    lines.append(
        f"checked {v['kubernetes-core']} core objects (kubernetes-validate strict), {v['crd']} custom resources "
        f"(CRDs), {v['chart-values']} chart values (values schemas), {v['security-rules']} security rules, "
        f"{v.get('usable-rules', 0)} day-one rules, {v.get('usability-paths', 0)} usability paths; "
        f"{len(report.unchecked)} without a schema"
    )
    lines.append(f"{len(report.findings)} finding{'s' * (len(report.findings) != 1)}")
    return "\n".join(lines) + "\n"
