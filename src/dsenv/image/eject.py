"""`dsenv eject`: a standalone Pulumi project running dsenv's components on a frozen spec,
for teams that want plain `pulumi up` and to own the code."""

from __future__ import annotations

from pathlib import Path

from dsenv.spec.model import EnvironmentSpec
from dsenv.spec.serialize import dumps
from dsenv.templating import render
from dsenv.writer import Writer

#: The Pulumi project name `dsenv up` and `dsenv plan` use (URNs include it).
PROJECT = "dsenv"


def stack_config(spec: EnvironmentSpec) -> dict[str, str]:
    """Provider configuration of the stack: where the default providers point."""
    if spec.aws is not None:
        return {"aws:region": spec.aws.region}
    return {"kubernetes:context": spec.kube_context} if spec.kube_context else {}


def eject_files(spec: EnvironmentSpec, source: str) -> list[tuple[str, str]]:
    """(relative path, content) of the project; `source` names the profile it came from."""
    from dsenv import DISTRIBUTION

    context = {
        "distribution": DISTRIBUTION,
        "team": spec.team,
        "stack": spec.stack_name,
        "dsenv_version": spec.dsenv_version,
        "source": source,
        "project": PROJECT,
    }
    return [
        ("Pulumi.yaml", render("eject/Pulumi.yaml.j2", **context)),
        (
            f"Pulumi.{spec.stack_name}.yaml",
            render("eject/Pulumi.stack.yaml.j2", config=stack_config(spec), **context),
        ),
        ("__main__.py", render("eject/__main__.py.j2", **context)),
        ("requirements.txt", render("eject/requirements.txt.j2", **context)),
        ("spec.json", dumps(spec)),
    ]


def eject(spec: EnvironmentSpec, writer: Writer, source: str) -> list[Path]:
    """Write the project under `writer.root` (honouring its dry-run and force)."""
    return [writer.write(path, content) for path, content in eject_files(spec, source)]
