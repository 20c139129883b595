"""devcontainer.json: the team image on a laptop, with what the hub gives a data scientist."""

from __future__ import annotations

import json
import math
from typing import Any

from dsenv.image.dockerfile import PREFIX, r_version
from dsenv.spec import versions
from dsenv.spec.model import EnvironmentSpec, NodePoolSpec

#: Stands in for the team's registry (the stack's ECR URL) until the caller knows it.
REGISTRY_PLACEHOLDER = "${localEnv:DSENV_REGISTRY}"
HOME = f"/home/{versions.WORKSPACE_USER}"


def image_reference(spec: EnvironmentSpec, registry: str | None = None) -> str:
    """`<registry>/<repository>:<tag>` on aws; on a kubernetes target the reference the pods
    run (under target.registry, or the local localhost/ name)."""
    if spec.provider != "aws":
        return spec.image.ref
    local = f"{spec.image.repository}:{spec.image.tag}"
    return f"{(registry or REGISTRY_PLACEHOLDER).rstrip('/')}/{local}"


def devcontainer_config(spec: EnvironmentSpec, registry: str | None = None) -> dict[str, Any]:
    tools = set(spec.image.tools)
    ports: dict[int, dict[str, str]] = {
        versions.JUPYTER_PORT: {"label": "JupyterLab", "onAutoForward": "openBrowser"},
    }
    # Both servers listen on the container's loopback only: the editor's port forwarding
    # reaches them, nothing else does, so they run without a token.
    start = {
        "jupyterlab": (
            f"nohup jupyter lab --no-browser --ip=127.0.0.1 --port={versions.JUPYTER_PORT} "
            "--IdentityProvider.token='' > /tmp/jupyterlab.log 2>&1 &"
        ),
    }
    if "vscode" in tools:
        ports[versions.CODE_SERVER_PORT] = {"label": "code-server", "onAutoForward": "notify"}
        start["code-server"] = (
            f"nohup code-server --bind-addr 127.0.0.1:{versions.CODE_SERVER_PORT} --auth none "
            "> /tmp/code-server.log 2>&1 &"
        )
    credentials = ".aws" if spec.provider == "aws" else ".kube"
    env = {"DSENV_TEAM": spec.team}
    if spec.aws:
        env |= {"AWS_REGION": spec.aws.region, "AWS_DEFAULT_REGION": spec.aws.region}
    extensions = ["ms-python.python", "ms-toolsai.jupyter"]
    if r_version(spec):
        extensions.append("REditorSupport.r")
    config: dict[str, Any] = {
        "name": f"{spec.team} workspace",
        "image": image_reference(spec, registry),
        # The image's user (uid WORKSPACE_UID, as in the hub). Its uid is kept, not remapped
        # to the laptop user's: the team env in /opt/dsenv belongs to that uid.
        "remoteUser": versions.WORKSPACE_USER,
        "containerUser": versions.WORKSPACE_USER,
        "updateRemoteUserUID": False,
        "workspaceMount": f"source=${{localWorkspaceFolder}},target={HOME}/work,type=bind",
        "workspaceFolder": f"{HOME}/work",
        "forwardPorts": list(ports),
        "portsAttributes": {str(port): attrs for port, attrs in ports.items()},
        # The host folder must exist before a bind mount of it can.
        "initializeCommand": f'mkdir -p "${{localEnv:HOME}}/{credentials}"',
        "mounts": [
            # Caches (uv, pip, Hugging Face) survive a container rebuild.
            {"type": "volume", "source": f"dsenv-{spec.team}-cache", "target": f"{HOME}/.cache"},
            f"source=${{localEnv:HOME}}/{credentials},target={HOME}/{credentials},type=bind,readonly",
        ],
        "containerEnv": env,
        "postCreateCommand": {
            "requirements": (
                "if [ -f requirements.txt ]; then uv pip install --requirement requirements.txt; fi"
            ),
            "pre-commit": (
                "if [ -f .pre-commit-config.yaml ] && command -v pre-commit >/dev/null; "
                "then pre-commit install; fi"
            ),
            "kernels": "jupyter kernelspec list",
        },
        "postStartCommand": start,
        "hostRequirements": _host_requirements(_default_pool(spec)),
        "customizations": {
            "vscode": {
                "extensions": extensions,
                "settings": {"python.defaultInterpreterPath": f"{PREFIX}/venv/bin/python"},
            }
        },
    }
    return config


def devcontainer(spec: EnvironmentSpec, registry: str | None = None) -> str:
    """devcontainer.json text for the team image (see `devcontainer_config`)."""
    return json.dumps(devcontainer_config(spec, registry), indent=2) + "\n"


def _default_pool(spec: EnvironmentSpec) -> NodePoolSpec:
    ws = spec.workspaces
    default = next((p.tier for p in ws.profiles if p.default), None) if ws else None
    return spec.pool(default) if default else spec.node_pools[0]


def _host_requirements(pool: NodePoolSpec) -> dict[str, Any]:
    """What the default hub tier gives a workspace, asked of the laptop."""
    result: dict[str, Any] = {
        "cpus": max(1, math.ceil(pool.cpu_millis / 1000)),
        "memory": f"{max(1, math.ceil(pool.memory_bytes / 2**30))}gb",
    }
    if pool.gpus:
        result["gpu"] = "optional"
    return result
