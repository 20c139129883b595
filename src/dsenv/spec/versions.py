"""Every chart, operator and image version dsenv deploys, pinned in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    name: str
    repository: str  # https Helm repository, or an oci:// reference
    version: str


JUPYTERHUB = Chart("jupyterhub", "https://hub.jupyter.org/helm-chart/", "4.2.0")
SPARK_OPERATOR = Chart("spark-operator", "https://kubeflow.github.io/spark-operator", "2.5.0")
STRIMZI = Chart("strimzi-kafka-operator", "oci://quay.io/strimzi-helm", "0.49.0")
ARC_CONTROLLER = Chart(
    "gha-runner-scale-set-controller", "oci://ghcr.io/actions/actions-runner-controller-charts", "0.14.2"
)
ARC_SCALE_SET = Chart(
    "gha-runner-scale-set", "oci://ghcr.io/actions/actions-runner-controller-charts", "0.14.2"
)
KSERVE_CRD = Chart("kserve-crd", "oci://ghcr.io/kserve/charts", "v0.16.0")
KSERVE = Chart("kserve", "oci://ghcr.io/kserve/charts", "v0.16.0")
CERT_MANAGER = Chart("cert-manager", "https://charts.jetstack.io", "v1.19.1")

#: Versions of things that are not charts.
KAFKA_METADATA_VERSION = "4.1-IV1"
EMR_RELEASE = "emr-7.9.0"
WORKSPACE_BASE_IMAGE = "quay.io/jupyter/minimal-notebook:2025-10-20"
WORKSPACE_UID = 1000  # jovyan: the uid the hub and Pod Security `restricted` run workspaces as
WORKSPACE_GID = 100
