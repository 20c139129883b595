"""Drift reports: a terminal table, JSON, JUnit XML (one test case per stack), Markdown fit
for a CI step summary, and GitHub Actions annotations (workflow commands on stdout: a
`warning` per drifted resource, an `error` per stack that could not be checked)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from dsenv.live.drift import DriftReport, Finding, StackDrift

FORMATS = ("table", "json", "junit", "markdown", "github")


def _finding_line(f: Finding) -> str:
    paths = f" [{', '.join(f.paths)}]" if f.paths else ""
    return f"{f.kind:<9} {f.op:<9} {f.urn}{paths}"


def to_table(report: DriftReport) -> str:
    lines = [f"{'STACK':<28} {'STATUS':<6} {'FINDINGS':>8}  PROFILE"]
    for s in report.stacks:
        lines.append(f"{s.stack:<28} {s.status:<6} {len(s.findings):>8}  {s.profile}")
        lines += [f"    {_finding_line(f)}" for f in s.findings]
        if s.error:
            lines += [f"    error: {ln}" for ln in s.error.splitlines()]
    data = report.to_json()
    lines.append(
        f"{len(report.stacks)} stacks: {data['clean']} clean, {data['drift']} drifted, "
        f"{data['error']} not checked ({report.seconds:.1f}s)"
    )
    return "\n".join(lines)


def to_json(report: DriftReport) -> str:
    return json.dumps(report.to_json(), indent=2)


def _case(suite: ET.Element, s: StackDrift) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        name=s.stack,
        classname=f"dsenv.drift.{s.profile}",
        time=f"{s.seconds:.3f}",
    )
    if s.error:
        ET.SubElement(
            case, "error", message="could not check drift", type="OperationalError"
        ).text = s.error
    elif s.findings:
        failure = ET.SubElement(
            case, "failure", message=f"{len(s.findings)} drifted resource(s)", type="drift"
        )
        failure.text = "\n".join(_finding_line(f) for f in s.findings)


def to_junit(report: DriftReport) -> str:
    data = report.to_json()
    root = ET.Element("testsuites", name="dsenv drift")
    suite = ET.SubElement(
        root,
        "testsuite",
        name="dsenv drift",
        tests=str(len(report.stacks)),
        failures=str(data["drift"]),
        errors=str(data["error"]),
        time=f"{report.seconds:.3f}",
    )
    for s in report.stacks:
        _case(suite, s)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(report: DriftReport) -> str:
    data = report.to_json()
    icon = {"clean": "✅", "drift": "⚠️", "error": "❌"}
    out = [
        "## dsenv drift",
        "",
        f"{len(report.stacks)} stacks: **{data['clean']} clean**, **{data['drift']} drifted**, "
        f"**{data['error']} not checked**.",
        "",
        "| stack | status | kind | op | resource | changed paths |",
        "|---|---|---|---|---|---|",
    ]
    for s in report.stacks:
        status = f"{icon[s.status]} {s.status}"
        if not s.findings:
            note = _md(s.error.splitlines()[0]) if s.error else ""
            out.append(f"| {s.stack} | {status} | | | {note} | |")
        for f in s.findings:
            out.append(
                f"| {s.stack} | {status} | {f.kind} | {f.op} | `{_md(f.urn)}` | "
                f"{_md(', '.join(f.paths))} |"
            )
    return "\n".join(out) + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(report: DriftReport) -> str:
    """Workflow commands GitHub turns into annotations on the run and the profile files."""
    out = []
    for s in report.stacks:
        where = f"file={_gh_property(s.profile)}"
        if s.error:
            title = _gh_property(f"dsenv drift could not check {s.stack}")
            out.append(f"::error {where},title={title}::{_gh_data(s.error)}")
        for f in s.findings:
            title = _gh_property(f"{f.kind} drift in {s.stack}")
            out.append(f"::warning {where},title={title}::{_gh_data(_finding_line(f))}")
    out.append(to_table(report).splitlines()[-1])
    return "\n".join(out)


def render(report: DriftReport, fmt: str) -> str:
    return {
        "table": to_table,
        "json": to_json,
        "junit": to_junit,
        "markdown": to_markdown,
        "github": to_github,
    }[fmt](report)
