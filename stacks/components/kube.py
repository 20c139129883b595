"""Registering Kubernetes objects and Helm releases.

dsenv builds every Kubernetes object as plain data (so tests and `dsenv check` read exactly
what is deployed) and registers it under its pulumi-kubernetes type token. The SDK's typed
classes would only rename the same fields, and importing their generated modules costs about
half a second of every `dsenv plan`; the engine, the provider and the state see the same
resource either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi_kubernetes import _utilities as k8s_plugin

from dsenv.spec.versions import Chart


def type_token(api_version: str, kind: str) -> str:
    """`v1`, `Namespace` -> `kubernetes:core/v1:Namespace`;
    `networking.k8s.io/v1`, `NetworkPolicy` -> `kubernetes:networking.k8s.io/v1:NetworkPolicy`."""
    group, _, version = api_version.rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{kind}"


def _with_plugin(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    # What the typed classes add: the kubernetes plugin version to load.
    return pulumi.ResourceOptions.merge(k8s_plugin.get_resource_opts_defaults(), opts)


def manifest_resource(
    logical_name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    """A core Kubernetes object from its manifest."""
    token = type_token(manifest["apiVersion"], manifest["kind"])
    return pulumi.CustomResource(
        token, logical_name, {**manifest, "status": None}, _with_plugin(opts)
    )


def helm_release(
    logical_name: str,
    chart: Chart,
    *,
    namespace: pulumi.Input[str],
    values: pulumi.Input[Mapping[str, Any]],
    opts: pulumi.ResourceOptions,
    release_name: str | None = None,
) -> pulumi.CustomResource:
    """A pinned Helm release (`kubernetes:helm.sh/v3:Release`): https repositories through
    repositoryOpts, OCI charts by reference. `release_name` fixes the Helm name so
    chart-derived object names stay stable."""
    if chart.repository.startswith("oci://"):
        chart_ref, repo_opts = f"{chart.repository.rstrip('/')}/{chart.name}", None
    else:
        chart_ref, repo_opts = chart.name, {"repo": chart.repository}
    props: dict[str, Any] = {
        "name": release_name or logical_name,
        "chart": chart_ref,
        "version": chart.version,
        "repositoryOpts": repo_opts,
        "namespace": namespace,
        "values": values,
        "atomic": True,
        "cleanupOnFail": True,
        "timeout": 900,
        "compat": "true",
        "status": None,
    }
    return pulumi.CustomResource(
        "kubernetes:helm.sh/v3:Release", logical_name, props, _with_plugin(opts)
    )
