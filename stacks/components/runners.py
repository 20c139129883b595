"""Runners: Actions Runner Controller in its own namespace and one runner scale set per
declared scope (repository or organisation), scaling to zero, on the team image.

GitHub credentials are referenced by secret *name* only (`githubConfigSecret`); the secret
itself is created out of band in the runners namespace and never passes through dsenv.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

from dsenv.capabilities import component_type
from dsenv.spec.base import restricted_labels
from dsenv.spec.runners import RunnersSpec, ScaleSetSpec
from dsenv.stacks.components.kube import helm_release, manifest_resource, service_account
from dsenv.stacks.components.namespace import (
    baseline_policies,
    namespace_manifest,
    object_store_policies,
)
from dsenv.stacks.components.podsecurity import restricted_container_context, restricted_pod_context

LISTENER_UID = 1001  # the gha-runner-scale-set-controller image's user (listener pods too)


def controller_values(runners: RunnersSpec) -> dict[str, Any]:
    return {
        "flags": {"watchSingleNamespace": runners.namespace},
        "serviceAccount": {"create": True, "name": runners.controller_service_account},
        "podSecurityContext": restricted_pod_context(run_as_user=LISTENER_UID),
        "securityContext": restricted_container_context(
            run_as_user=LISTENER_UID, read_only_root=True
        ),
    }


def runner_pod_spec(runners: RunnersSpec, image: str) -> dict[str, Any]:
    """The runner PodSpec (also the AutoscalingRunnerSet's `spec.template.spec`)."""
    pool = runners.pool
    uid, gid = runners.uid, runners.gid
    quantities = {"cpu": f"{pool.cpu_millis}m", "memory": f"{pool.memory_bytes // 2**20}Mi"}
    if pool.gpus:  # a runner on a GPU tier gets the tier's GPUs, as its workspaces do
        quantities[pool.gpu_resource] = str(pool.gpus)
    pod: dict[str, Any] = {
        "serviceAccountName": runners.service_account,
        "nodeSelector": pool.node_selector,
        "securityContext": restricted_pod_context(run_as_user=uid, run_as_group=gid, fs_group=gid),
        "restartPolicy": "Never",
        "containers": [
            {
                "name": "runner",
                "image": image,
                "command": ["/home/runner/run.sh"],
                "resources": {"requests": dict(quantities), "limits": dict(quantities)},
                "securityContext": restricted_container_context(run_as_user=uid, run_as_group=gid),
            }
        ],
    }
    if pool.tolerations:
        pod["tolerations"] = pool.toleration_manifests()
    if runners.image_pull_secret:
        pod["imagePullSecrets"] = [{"name": runners.image_pull_secret}]
    if runners.object_store is not None:
        pod["containers"][0]["env"] = runners.object_store.env()
    return pod


def listener_template() -> dict[str, Any]:
    """The listener pod runs in the controller namespace, which enforces `restricted`."""
    return {
        "spec": {
            "securityContext": restricted_pod_context(run_as_user=LISTENER_UID),
            "containers": [
                {
                    "name": "listener",
                    "securityContext": restricted_container_context(run_as_user=LISTENER_UID),
                }
            ],
        }
    }


def scale_set_values(runners: RunnersSpec, scale_set: ScaleSetSpec, image: str) -> dict[str, Any]:
    return {
        "githubConfigUrl": scale_set.config_url,
        "githubConfigSecret": runners.credentials_secret,
        "runnerScaleSetName": scale_set.name,
        "minRunners": scale_set.min_runners,
        "maxRunners": scale_set.max_runners,
        "controllerServiceAccount": {
            "namespace": runners.controller_namespace,
            "name": runners.controller_service_account,
        },
        "listenerTemplate": listener_template(),
        "template": {"spec": runner_pod_spec(runners, image)},
    }


def autoscaling_runner_set(
    runners: RunnersSpec, scale_set: ScaleSetSpec, image: str
) -> dict[str, Any]:
    """What the scale-set chart renders from `scale_set_values`, as the custom resource:
    lets the tests check the values against the upstream CRD."""
    values = scale_set_values(runners, scale_set, image)
    return {
        "apiVersion": "actions.github.com/v1alpha1",
        "kind": "AutoscalingRunnerSet",
        "metadata": {
            "name": scale_set.name,
            "namespace": runners.namespace,
            "labels": dict(runners.labels),
        },
        "spec": {
            "githubConfigUrl": values["githubConfigUrl"],
            "githubConfigSecret": values["githubConfigSecret"],
            "runnerScaleSetName": values["runnerScaleSetName"],
            "minRunners": values["minRunners"],
            "maxRunners": values["maxRunners"],
            "listenerTemplate": values["listenerTemplate"],
            "template": values["template"],
        },
    }


def runners_core_manifests(runners: RunnersSpec) -> list[dict[str, Any]]:
    """Namespaces (controller unless it is shared, runners) and the runners namespace's
    policies."""
    labels = restricted_labels(runners.labels)
    controller = [namespace_manifest(runners.controller_namespace, labels)]
    return [
        *(controller if runners.install_operator else []),
        namespace_manifest(runners.namespace, labels),
        *baseline_policies(runners.namespace, runners.labels),
        *object_store_policies(runners.namespace, runners.labels, runners.object_store),
    ]


@dataclass
class RunnersArgs:
    runners: RunnersSpec
    image: pulumi.Input[str]  # on aws the team registry's image, known once the stack has it
    role_arn: pulumi.Input[str] | None = None  # aws: the runners' IAM role


class Runners(pulumi.ComponentResource):
    """ARC controller plus the team's scale sets."""

    scale_sets: list[str]

    def __init__(
        self, name: str, args: RunnersArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("runners", "Runners"), name, None, opts)
        runners = args.runners
        child = pulumi.ResourceOptions(parent=self)
        manifests = runners_core_manifests(runners)
        ctrl_ns: list[pulumi.Resource] = []
        if runners.install_operator:
            ctrl_ns.append(
                manifest_resource(f"{name}-controller-namespace", manifests.pop(0), child)
            )
        runner_ns = manifest_resource(f"{name}-namespace", manifests[0], child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[runner_ns])
        for policy in manifests[1:]:
            manifest_resource(f"{name}-{policy['metadata']['name']}", policy, in_ns)
        sa = service_account(
            f"{name}-sa",
            name=runners.service_account,
            namespace=runners.namespace,
            labels=runners.labels,
            role_arn=args.role_arn,
            opts=in_ns,
        )
        controller: list[pulumi.Resource] = []
        if runners.install_operator:
            # shared operators: the cluster's ARC controller reconciles the scale sets
            controller.append(
                helm_release(
                    f"{name}-controller",
                    runners.controller_chart,
                    namespace=runners.controller_namespace,
                    values=controller_values(runners),
                    release_name=runners.controller_release,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[*ctrl_ns, runner_ns]),
                )
            )
        image = pulumi.Output.from_input(args.image)
        for scale_set in runners.scale_sets:
            helm_release(
                f"{name}-{scale_set.name}",
                runners.scale_set_chart,
                namespace=runners.namespace,
                values=image.apply(_values_for(runners, scale_set)),
                release_name=scale_set.name,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*controller, sa]),
            )
        self.scale_sets = [s.name for s in runners.scale_sets]
        self.register_outputs({"scale_sets": self.scale_sets})


def _values_for(runners: RunnersSpec, scale_set: ScaleSetSpec) -> Callable[[str], dict[str, Any]]:
    """The scale set's values once the image is known (one closure per scale set)."""
    return lambda image: scale_set_values(runners, scale_set, image)
