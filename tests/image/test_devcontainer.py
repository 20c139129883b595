"""devcontainer.json: the team image on a laptop, valid against the upstream schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from parity_support import expanded
from testkit import PROFILES, TEAM_PROFILES

from dsenv.image import devcontainer, devcontainer_config, image_reference
from dsenv.image.devcontainer import REGISTRY_PLACEHOLDER
from dsenv.spec import versions

FRAUD = PROFILES / "fraud.yaml"
SANDBOX = PROFILES / "sandbox.yaml"
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def _validator(upstream: Path) -> jsonschema.Draft201909Validator:
    schema = json.loads((upstream / "devcontainers" / "devContainer.base.schema.json").read_text())
    return jsonschema.Draft201909Validator(schema)


@pytest.mark.parametrize("profile", TEAM_PROFILES, ids=lambda p: p.stem)
def test_example_devcontainer_validates_against_the_upstream_schema(
    profile: Path, upstream: Path
) -> None:
    validator = _validator(upstream)
    for registry in (None, REGISTRY):
        document = json.loads(devcontainer(expanded(profile), registry))
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]
        assert errors == []


def test_schema_check_rejects_an_unknown_key(upstream: Path) -> None:
    document: dict[str, Any] = devcontainer_config(expanded(FRAUD))
    document["forwardedPorts"] = [8888]  # a typo the schema must catch
    assert list(_validator(upstream).iter_errors(document))


def test_aws_team_uses_the_registry_image_of_the_hub() -> None:
    spec = expanded(FRAUD)
    config = devcontainer_config(spec, REGISTRY)
    assert config["image"] == f"{REGISTRY}/{spec.image.repository}:{spec.image.tag}"
    # The hub runs the same repository and tag (prefixed with the same registry by the stack).
    assert spec.workspaces is not None
    assert config["image"].endswith("/" + spec.workspaces.image)
    assert devcontainer_config(spec)["image"].startswith(REGISTRY_PLACEHOLDER + "/")


def test_kubernetes_team_uses_the_image_its_pods_run() -> None:
    spec = expanded(SANDBOX)
    assert image_reference(spec, REGISTRY) == f"localhost/sandbox-workspace:{spec.image.tag}"
    genomics = expanded(PROFILES / "genomics.yaml")
    assert image_reference(genomics, REGISTRY) == (
        f"harbor.lab.example/research/institute/genomics-workspace:{genomics.image.tag}"
    )


def test_ports_follow_the_tools() -> None:
    fraud = devcontainer_config(expanded(FRAUD))
    assert (
        fraud["forwardPorts"] == [versions.JUPYTER_PORT, versions.CODE_SERVER_PORT] == [8888, 8080]
    )
    assert set(fraud["postStartCommand"]) == {"jupyterlab", "code-server"}
    sandbox = devcontainer_config(expanded(SANDBOX))
    assert sandbox["forwardPorts"] == [8888]
    assert "code-server" not in json.dumps(sandbox)


def test_user_matches_the_hub_uid_and_keeps_it() -> None:
    config = devcontainer_config(expanded(FRAUD))
    assert config["remoteUser"] == versions.WORKSPACE_USER == "jovyan"
    assert versions.WORKSPACE_UID == 1000
    assert config["updateRemoteUserUID"] is False


def test_mounts_and_environment_follow_the_target() -> None:
    fraud = devcontainer_config(expanded(FRAUD))
    mounts = json.dumps(fraud["mounts"])
    assert "/home/jovyan/.aws" in mounts and "readonly" in mounts
    assert fraud["containerEnv"]["AWS_REGION"] == "eu-west-1"
    assert "dsenv-fraud-cache" in mounts
    sandbox = devcontainer_config(expanded(SANDBOX))
    assert "/home/jovyan/.kube" in json.dumps(sandbox["mounts"])
    assert "AWS_REGION" not in sandbox["containerEnv"]


def test_host_requirements_are_the_default_tier() -> None:
    fraud = devcontainer_config(expanded(FRAUD))  # default tier small: 1.5 CPU, 6Gi
    assert fraud["hostRequirements"] == {"cpus": 2, "memory": "6gb"}
    vision = devcontainer_config(expanded(PROFILES / "vision.yaml"))  # default tier cpu: 3.5, 13Gi
    assert vision["hostRequirements"] == {"cpus": 4, "memory": "13gb"}


def test_r_extension_only_with_r() -> None:
    assert (
        "REditorSupport.r"
        in devcontainer_config(expanded(FRAUD))["customizations"]["vscode"]["extensions"]
    )
    assert "REditorSupport.r" not in devcontainer(expanded(SANDBOX))
