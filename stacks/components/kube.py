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


#: dsenv owns the objects it creates: an `up` after a change made with kubectl puts the
#: profile's value back instead of failing on the Server-Side Apply conflict with kubectl's
#: field manager ("Apply failed with 1 conflict: conflict with \"kubectl-patch\""). The
#: provider forces an object's apply when its inputs carry this annotation (pulumi-kubernetes
#: `provider/pkg/await/await.go` `patchForce`, the constant in `pkg/metadata/annotations.go`);
#: the end-to-end test `test_a_change_behind_dsenvs_back_is_cloud_drift_until_refreshed`
#: shows it against the real provider and API server.
PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce"


def _annotate(metadata: Any, annotation: str) -> Any:
    """`metadata` with `annotation: "true"` added; metadata built from outputs (a
    ServiceAccount's role ARN) is annotated once resolved."""

    def add(meta: Mapping[str, Any]) -> dict[str, Any]:
        return {**meta, "annotations": {**(meta.get("annotations") or {}), annotation: "true"}}

    if isinstance(metadata, Mapping):
        return add(metadata)
    return pulumi.Output.from_input(metadata).apply(add)


def manifest_resource(
    logical_name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    """A Kubernetes object from its manifest."""
    token = type_token(manifest["apiVersion"], manifest["kind"])
    return pulumi.CustomResource(
        token, logical_name, {**manifest, "status": None}, _with_plugin(opts)
    )


def patch_force(
    args: pulumi.ResourceTransformationArgs,
) -> pulumi.ResourceTransformationResult | None:
    """A stack transformation, always registered: every Kubernetes object of the program
    (core objects and custom resources alike) carries `PATCH_FORCE_ANNOTATION`."""
    if not args.type_.startswith("kubernetes:") or "metadata" not in args.props:
        return None
    new = _annotate(args.props["metadata"], PATCH_FORCE_ANNOTATION)
    return pulumi.ResourceTransformationResult({**args.props, "metadata": new}, args.opts)


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


#: pulumi-kubernetes skips its readiness checks ("await logic") for an object annotated so
#: (pulumi/pulumi-kubernetes#417, `pkg/metadata/overrides.go`); a Helm release has the
#: `skipAwait` property instead.
SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait"


def skip_await(
    args: pulumi.ResourceTransformationArgs,
) -> pulumi.ResourceTransformationResult | None:
    """A stack transformation: every Kubernetes object and Helm release of the program is
    created without waiting for it to become ready. For clusters where nothing can become
    ready (a control plane without nodes, as the end-to-end tests run against); the program
    registers it only when asked (`program(spec, skip_await=True)`)."""
    if not args.type_.startswith("kubernetes:") or "metadata" not in args.props:
        if args.type_ == "kubernetes:helm.sh/v3:Release":
            return pulumi.ResourceTransformationResult({**args.props, "skipAwait": True}, args.opts)
        return None
    new = _annotate(args.props["metadata"], SKIP_AWAIT_ANNOTATION)
    return pulumi.ResourceTransformationResult({**args.props, "metadata": new}, args.opts)


#: The annotation that makes a ServiceAccount's pods assume an IAM role (IRSA, target aws).
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"


def service_account_manifest(
    name: str,
    namespace: str,
    labels: Mapping[str, str],
    role_arn: str | None = None,
    secrets: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A workload's ServiceAccount; with `role_arn`, annotated for IRSA; `secrets` lists
    secrets by name for controllers that read them from the account (KServe's storage
    initializer takes its S3 credentials from there)."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict(labels)}
    if role_arn:
        metadata["annotations"] = {ROLE_ARN_ANNOTATION: role_arn}
    manifest: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata}
    if secrets:
        manifest["secrets"] = [{"name": secret} for secret in secrets]
    return manifest


def service_account(
    logical_name: str,
    *,
    name: str,
    namespace: str,
    labels: Mapping[str, str],
    role_arn: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
    secrets: tuple[str, ...] = (),
) -> pulumi.CustomResource:
    """Register a workload's ServiceAccount. Its role ARN (target aws) is known only once the
    role exists, so the metadata is built from the ARN output."""
    arn = pulumi.Output.from_input(role_arn if role_arn is not None else "")
    metadata = arn.apply(
        lambda value: service_account_manifest(name, namespace, labels, value or None)["metadata"]
    )
    manifest: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata}
    if secrets:
        manifest["secrets"] = [{"name": secret} for secret in secrets]
    return manifest_resource(logical_name, manifest, opts)
