"""Serving: cert-manager, the KServe CRDs and controller (RawDeployment mode: plain
Deployments and HPAs, no Knative or Istio) in the serving operator namespace, the model-server
service account, and one InferenceService per declared model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource

from dsenv.capabilities import component_type
from dsenv.spec.base import restricted_labels
from dsenv.spec.objectstore import ObjectStoreSpec
from dsenv.spec.serving import ModelSpec, ServingSpec
from dsenv.stacks.components.kube import helm_release, manifest_resource, service_account
from dsenv.stacks.components.namespace import namespace_manifest
from dsenv.stacks.components.podsecurity import (
    NOBODY,
    restricted_container_context,
    restricted_pod_context,
)

MODEL_UID = 1000  # the KServe model-server images run as a non-root numeric user
#: The storage-initializer image's user (kserve/kserve `python/storage-initializer.Dockerfile`
#: declares uid 1000; kserve/kserve#5855).
STORAGE_INITIALIZER_UID = 1000
SCALE_TARGET_PERCENT = 70  # the predictors' HPA target CPU utilisation


def cert_manager_values() -> dict[str, Any]:
    pod = restricted_pod_context()
    container = restricted_container_context(read_only_root=True)
    values: dict[str, Any] = {
        "crds": {"enabled": True},
        "securityContext": pod,
        "containerSecurityContext": container,
    }
    for part in ("webhook", "cainjector", "startupapicheck"):
        values[part] = {"securityContext": pod, "containerSecurityContext": container}
    return values


def kserve_values(store: ObjectStoreSpec | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kserve": {
            "controller": {
                "deploymentMode": "RawDeployment",
                "securityContext": restricted_pod_context(),
                "containerSecurityContext": restricted_container_context(
                    run_as_user=NOBODY, read_only_root=True
                ),
            },
            # KServe injects the storage initializer into every predictor pod with the
            # context of the ClusterStorageContainer `default`, which the chart writes from
            # this value; without it `restricted` admission refuses the predictor pods
            # (kserve/kserve#5373: the injector sets none of its own)
            "storage": {
                "containerSecurityContext": restricted_container_context(
                    run_as_user=STORAGE_INITIALIZER_UID
                )
            },
        }
    }
    if store is not None:
        # the team's own KServe: its storage initializer downloads s3:// models from the
        # team's store (the chart's `kserve.storage.s3`, KServe's cluster-wide S3 defaults)
        values["kserve"]["storage"] |= {
            "s3": {
                "endpoint": f"{store.host}:{store.port}",
                "useHttps": "1" if store.https else "0",
                "region": store.region,
            }
        }
    return values


def inference_service(serving: ServingSpec, model: ModelSpec) -> dict[str, Any]:
    pool = model.pool
    quantities = {"cpu": f"{pool.cpu_millis}m", "memory": f"{pool.memory_bytes // 2**20}Mi"}
    if pool.gpus:
        quantities[pool.gpu_resource] = str(pool.gpus)
    predictor: dict[str, Any] = {
        "minReplicas": model.min_replicas,
        "maxReplicas": model.max_replicas,
        # RawDeployment: an HPA on CPU utilisation (metrics.k8s.io, served by metrics-server)
        "scaleMetric": "cpu",
        "scaleTarget": SCALE_TARGET_PERCENT,
        "serviceAccountName": serving.service_account,
        "nodeSelector": pool.node_selector,
        "securityContext": restricted_pod_context(run_as_user=MODEL_UID, fs_group=MODEL_UID),
        "model": {
            "modelFormat": {"name": model.framework},
            "storageUri": model.storage_uri,
            "resources": {"requests": dict(quantities), "limits": dict(quantities)},
            "securityContext": restricted_container_context(run_as_user=MODEL_UID),
        },
    }
    if pool.tolerations:
        predictor["tolerations"] = pool.toleration_manifests()
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": model.name,
            "namespace": serving.namespace,
            "labels": dict(serving.labels),
            "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"},
        },
        "spec": {"predictor": predictor},
    }


def endpoint(serving: ServingSpec, model: ModelSpec) -> str:
    """The in-cluster URL of a model's predictor in RawDeployment mode."""
    return f"http://{model.name}-predictor.{serving.namespace}.svc.cluster.local"


@dataclass
class ServingArgs:
    serving: ServingSpec
    role_arn: pulumi.Input[str] | None = None  # aws: the model servers' IAM role


class Serving(pulumi.ComponentResource):
    """KServe and the team's InferenceServices."""

    endpoints: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: ServingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("serving", "Serving"), name, None, opts)
        serving = args.serving
        child = pulumi.ResourceOptions(parent=self)
        kserve: list[pulumi.Resource] = []
        if serving.install_operator:
            # shared operators: the cluster's cert-manager and KServe already serve the team
            kserve.append(self._operator(name, serving))
        sa = service_account(
            f"{name}-sa",
            name=serving.service_account,
            namespace=serving.namespace,
            labels=serving.labels,
            role_arn=args.role_arn,
            opts=child,
            # KServe's storage initializer takes S3 credentials from the account's secrets
            secrets=(serving.object_store.credentials_secret,) if serving.object_store else (),
        )
        after = pulumi.ResourceOptions(parent=self, depends_on=[*kserve, sa])
        for model in serving.models:
            isvc = inference_service(serving, model)
            CustomResource(
                f"{name}-{model.name}",
                api_version=isvc["apiVersion"],
                kind=isvc["kind"],
                metadata=isvc["metadata"],
                spec=isvc["spec"],
                opts=after,
            )
        self.endpoints = pulumi.Output.from_input(
            {m.name: endpoint(serving, m) for m in serving.models}
        )
        self.register_outputs({"endpoints": self.endpoints})

    def _operator(self, name: str, serving: ServingSpec) -> pulumi.Resource:
        """cert-manager, the KServe CRDs and controller in their namespace; returns KServe."""
        operator_ns = manifest_resource(
            f"{name}-operator-namespace",
            namespace_manifest(serving.operator_namespace, restricted_labels(serving.labels)),
            pulumi.ResourceOptions(parent=self),
        )
        in_operator_ns = pulumi.ResourceOptions(parent=self, depends_on=[operator_ns])
        cert_manager = helm_release(
            f"{name}-cert-manager",
            serving.cert_manager_chart,
            namespace=serving.operator_namespace,
            values=cert_manager_values(),
            release_name=serving.releases["cert-manager"],
            opts=in_operator_ns,
        )
        crds = helm_release(
            f"{name}-kserve-crd",
            serving.crd_chart,
            namespace=serving.operator_namespace,
            values={},
            release_name=serving.releases["kserve-crd"],
            opts=in_operator_ns,
        )
        return helm_release(
            f"{name}-kserve",
            serving.chart,
            namespace=serving.operator_namespace,
            values=kserve_values(serving.object_store),
            release_name=serving.releases["kserve"],
            # the controller's webhook certificate comes from cert-manager
            opts=pulumi.ResourceOptions(parent=self, depends_on=[operator_ns, cert_manager, crds]),
        )
