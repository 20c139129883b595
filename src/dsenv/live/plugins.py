"""Provider plugins: pinned to the installed SDKs, installed before the engine needs them.

An inline program reports no required plugins to the CLI, so without this step the engine
would fetch each provider during the first preview, at whatever moment the network allows.
dsenv installs them up front, at the version each installed SDK asks the engine for (the
`version` in its `pulumi-plugin.json`, which `get_resource_opts_defaults` sends with every
resource), and says how to install one from a file when it cannot be fetched.

How the CLI finds a plugin (pulumi/pulumi `sdk/go/common/workspace/plugins.go`,
`GetPluginPath`): a `pulumi-resource-<name>` executable on `$PATH` wins over the plugin
cache whatever its version ("ambient" plugins), unless `PULUMI_IGNORE_AMBIENT_PLUGINS` is
set; otherwise `$PULUMI_HOME/plugins/resource-<name>-v<version>`. So an ambient plugin needs
no install (and `pulumi plugin install` would try to download one anyway), and with
`PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION` set the user has said not to download: a
missing plugin is then reported, never fetched.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pulumi.automation import PulumiCommand
from pulumi.automation.errors import CommandError

from dsenv.errors import OperationalError

#: The SDK package of each provider plugin dsenv's program uses.
SDK_PACKAGES = {"kubernetes": "pulumi_kubernetes", "aws": "pulumi_aws"}

Source = Literal["ambient", "installed", "missing"]


@dataclass(frozen=True)
class Plugin:
    name: str
    version: str

    @property
    def executable(self) -> str:
        return f"pulumi-resource-{self.name}"

    def install_args(self) -> list[str]:
        return ["plugin", "install", "resource", self.name, self.version]

    def install_hint(self) -> str:
        archive = f"pulumi-resource-{self.name}-v{self.version}-<os>-<arch>.tar.gz"
        return (
            f"get the provider's release archive ({archive}) or its `{self.executable}` "
            f"binary onto this machine, then `pulumi {' '.join(self.install_args())} "
            f"--file PATH`; or put `{self.executable}` on PATH"
        )


@dataclass(frozen=True)
class PluginStatus:
    plugin: Plugin
    source: Source
    detail: str  # where it was found, or why it is missing


def sdk_plugin(name: str) -> Plugin:
    """The plugin an installed SDK asks the engine for."""
    package = SDK_PACKAGES[name]
    try:
        text = resources.files(package).joinpath("pulumi-plugin.json").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise OperationalError(
            f"the {package} SDK is not installed ({exc})", hint="reinstall dsenv"
        ) from None
    data = json.loads(text)
    return Plugin(str(data.get("name") or name), str(data["version"]))


def required_plugins(aws: bool) -> list[Plugin]:
    """Every target needs the Kubernetes provider; an AWS target needs the AWS one too."""
    names = ["kubernetes", *(["aws"] if aws else [])]
    return [sdk_plugin(n) for n in names]


def cli_env(command: PulumiCommand, env: Mapping[str, str]) -> dict[str, str]:
    """The environment the CLI runs in (`InterruptibleCommand.run`): the CLI's own folder is
    first on PATH, so plugins shipped beside it are ambient too."""
    merged = {**os.environ, **env}
    if Path(command.command).is_absolute():
        merged["PATH"] = os.pathsep.join(
            [str(Path(command.command).parent), merged.get("PATH", "")]
        )
    return merged


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no")


def installed_versions(command: PulumiCommand, env: Mapping[str, str]) -> dict[str, set[str]]:
    """name -> versions in the plugin cache, as `pulumi plugin ls --json` lists them."""
    try:
        result = command.run(["plugin", "ls", "--json"], str(Path.cwd()), dict(env))
        listed = json.loads(result.stdout or "[]")
    except (CommandError, ValueError) as exc:
        raise OperationalError(f"listing the installed Pulumi plugins failed: {exc}") from None
    found: dict[str, set[str]] = {}
    for item in listed or []:
        if item.get("kind") == "resource" and item.get("version"):
            found.setdefault(str(item["name"]), set()).add(str(item["version"]).lstrip("v"))
    return found


def status(
    plugins: list[Plugin], command: PulumiCommand, env: Mapping[str, str]
) -> list[PluginStatus]:
    merged = cli_env(command, env)
    ambient_allowed = "PULUMI_IGNORE_AMBIENT_PLUGINS" not in merged
    cached: dict[str, set[str]] | None = None
    out = []
    for plugin in plugins:
        on_path = (
            shutil.which(plugin.executable, path=merged.get("PATH")) if ambient_allowed else None
        )
        if on_path:
            out.append(
                PluginStatus(plugin, "ambient", f"{on_path} (on PATH: used whatever its version)")
            )
            continue
        if cached is None:
            cached = installed_versions(command, env)
        if plugin.version in cached.get(plugin.name, set()):
            out.append(PluginStatus(plugin, "installed", "in the plugin cache"))
        else:
            others = ", ".join(sorted(cached.get(plugin.name, set()))) or "none"
            out.append(
                PluginStatus(plugin, "missing", f"not installed (cached versions: {others})")
            )
    return out


def ensure(
    plugins: list[Plugin], command: PulumiCommand, env: Mapping[str, str]
) -> list[PluginStatus]:
    """Install every missing plugin; OperationalError (exit 3) with the offline fix when one
    cannot be fetched or fetching is switched off."""
    found = status(plugins, command, env)
    merged = cli_env(command, env)
    no_download = _truthy(merged.get("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"))
    result = []
    for item in found:
        if item.source != "missing":
            result.append(item)
            continue
        plugin = item.plugin
        if no_download:
            raise OperationalError(
                f"the {plugin.name} provider plugin v{plugin.version} is not installed, and "
                "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION forbids downloading it",
                hint=plugin.install_hint(),
            )
        try:
            command.run(plugin.install_args(), str(Path.cwd()), dict(env))
        except CommandError as exc:
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip().startswith("error")]
            raise OperationalError(
                f"could not install the {plugin.name} provider plugin v{plugin.version}: "
                + ("; ".join(lines[-1:]) or "the CLI failed"),
                hint=plugin.install_hint(),
            ) from None
        result.append(PluginStatus(plugin, "installed", "installed just now"))
    return result
