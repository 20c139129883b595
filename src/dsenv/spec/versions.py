"""Every chart, operator and image version dsenv deploys, pinned in one place."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Chart:
    name: str
    repository: str  # https Helm repository, or an oci:// reference
    version: str


JUPYTERHUB = Chart("jupyterhub", "https://hub.jupyter.org/helm-chart/", "4.2.0")
SPARK_OPERATOR = Chart("spark-operator", "https://kubeflow.github.io/spark-operator", "2.5.0")
STRIMZI = Chart("strimzi-kafka-operator", "oci://quay.io/strimzi-helm", "0.49.0")
ARC_CONTROLLER = Chart(
    "gha-runner-scale-set-controller",
    "oci://ghcr.io/actions/actions-runner-controller-charts",
    "0.14.2",
)
ARC_SCALE_SET = Chart(
    "gha-runner-scale-set", "oci://ghcr.io/actions/actions-runner-controller-charts", "0.14.2"
)
KSERVE_CRD = Chart("kserve-crd", "oci://ghcr.io/kserve/charts", "v0.16.0")
KSERVE = Chart("kserve", "oci://ghcr.io/kserve/charts", "v0.16.0")
CERT_MANAGER = Chart("cert-manager", "https://charts.jetstack.io", "v1.19.1")
#: Argo Workflows (pipelines' workflows): chart 1.0.18 runs controller v4.0.6
#: (argoproj/argo-helm charts/argo-workflows/Chart.yaml).
ARGO_WORKFLOWS = Chart("argo-workflows", "https://argoproj.github.io/argo-helm", "1.0.18")
#: target aws: scales the tier node groups, from zero where the profile allows.
CLUSTER_AUTOSCALER = Chart(
    "cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.47.0"
)
#: target aws, GPU tiers: advertises nvidia.com/gpu on the AL2023 NVIDIA nodes (chart
#: deployments/helm/nvidia-device-plugin of NVIDIA/k8s-device-plugin, tag v0.20.0).
NVIDIA_DEVICE_PLUGIN = Chart(
    "nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.20.0"
)
#: target aws: the resource metrics API (kubectl top, HorizontalPodAutoscalers on CPU).
METRICS_SERVER = Chart(
    "metrics-server", "https://kubernetes-sigs.github.io/metrics-server/", "3.13.1"
)
#: target aws, workspaces: serves the hub's Ingress from an internet-facing ALB with the ACM
#: certificate (kubernetes-sigs/aws-load-balancer-controller, chart 3.5.0).
AWS_LOAD_BALANCER_CONTROLLER = Chart(
    "aws-load-balancer-controller", "https://aws.github.io/eks-charts", "3.5.0"
)
#: target aws, a hub host: the Route 53 record of the host, pointing at the ALB
#: (kubernetes-sigs/external-dns, chart 1.21.1).
EXTERNAL_DNS = Chart("external-dns", "https://kubernetes-sigs.github.io/external-dns/", "1.21.1")

#: Versions of things that are not charts.
#: The Pulumi CLI dsenv installs and pins in generated CI workflows, and the oldest it accepts
#: (3.181 added `--client` for refresh and destroy, which inline programs need). 3.274 is the
#: CLI the end-to-end tests build and run; a CLI newer than the `pulumi` SDK (3.272) is
#: supported by the Automation API (it only refuses CLIs older than its minimum).
PULUMI_CLI = "3.274.0"
PULUMI_CLI_MIN = "3.181.0"
KAFKA_METADATA_VERSION = "4.1-IV1"
EMR_RELEASE = "emr-7.9.0"
#: Spark drivers and executors (engine operator) run Apache Spark's own image, pinned per
#: Spark version: the team image is a Jupyter image (entrypoint `tini -g -- start.sh`, no
#: SPARK_HOME), and Spark starts its pods as `<entrypoint> driver|executor ...`, which only
#: Spark's `/opt/entrypoint.sh` understands. The image is the Docker Official Image built from
#: apache/spark-docker (`<version>/scala2.12-java17-python3-ubuntu/Dockerfile`: ENTRYPOINT
#: /opt/entrypoint.sh, SPARK_HOME=/opt/spark, user spark uid 185, the PySpark examples under
#: /opt/spark/examples).
SPARK_IMAGE_REPOSITORY = "docker.io/library/spark"
SPARK_UID = 185  # the `spark` user of the Spark image (apache/spark-docker `ARG spark_uid=185`)


def spark_image(version: str) -> str:
    """The Spark image of a Spark version: Scala 2.12 for 3.x, 2.13 for 4.x (the only builds
    apache/spark-docker publishes for each), Java 17, Python 3."""
    scala = "2.13" if int(version.split(".", 1)[0]) >= 4 else "2.12"
    return f"{SPARK_IMAGE_REPOSITORY}:{version}-scala{scala}-java17-python3-ubuntu"


WORKSPACE_BASE_IMAGE = "quay.io/jupyter/minimal-notebook:2025-10-20"
WORKSPACE_UID = 1000  # jovyan: the uid the hub and Pod Security `restricted` run workspaces as
WORKSPACE_GID = 100
WORKSPACE_USER = "jovyan"  # the base image's user with WORKSPACE_UID

#: The team image's build inputs beyond the base (`dsenv.image`).
#: Package resolution only sees releases up to this instant, so a rebuild of the same
#: profile resolves the same lock; it moves with WORKSPACE_BASE_IMAGE.
PACKAGE_SNAPSHOT = "2025-10-20T00:00:00Z"
UV_IMAGE = "ghcr.io/astral-sh/uv:0.9.5"  # the uv binary is copied from its image
CODE_SERVER_VERSION = "4.105.1"
#: The GitHub Actions runner, copied into the team image when the team has CI runners
#: (ARC runs the runner from the team image: `/home/runner/run.sh`).
ACTIONS_RUNNER_IMAGE = "ghcr.io/actions/actions-runner:2.329.0"
#: Spark on the operator: the Python Kubernetes client in the team image, so a notebook can
#: submit the SparkApplication template and read driver logs without kubectl.
SPARK_SUBMIT_PACKAGES = ("kubernetes>=31,<36",)
JAVA_PACKAGE = "openjdk-17-jre-headless"  # the JVM pyspark needs; Spark 3.5 and 4 run on 17
DEFAULT_PYTHON = "3.12"  # the team env's Python when the profile declares only R
DEFAULT_R = "4.4"  # R for tool rstudio when the profile declares no R
RSTUDIO_SERVER_VERSION = "2025.09.1-401"
#: Jupyter server side of the team env: singleuser must match the hub's major version (chart 4.x).
JUPYTER_SERVER_PACKAGES = ("jupyterlab>=4.4,<5", "jupyterhub>=5.3,<6", "ipykernel>=6.29")
CODE_SERVER_PORT = 8080
JUPYTER_PORT = 8888


def kubernetes_versions() -> tuple[str, ...] | None:
    """The Kubernetes minor versions dsenv's checkers know ("1.25" ... ): those
    kubernetes-validate ships strict schemas for, read from its package data without
    importing it (an import costs 0.14 s, `validate` must stay quick). None when
    kubernetes-validate is not installed (`dsenv check` then says so, exit 3)."""
    return _kubernetes_versions()


@cache
def _kubernetes_versions() -> tuple[str, ...] | None:
    import re
    import sys
    from pathlib import Path

    # the package's data folder on sys.path (a few stat calls); the import system's finders
    # cost several milliseconds more
    folders = [
        Path(entry or ".", "kubernetes_validate", "kubernetes-json-schema") for entry in sys.path
    ]
    folder = next((f for f in folders if f.is_dir()), None)
    if folder is None:
        import importlib.util

        try:
            found = importlib.util.find_spec("kubernetes_validate")
        except (ImportError, ValueError):
            return None
        if found is None or not found.submodule_search_locations:
            return None
        folder = Path(next(iter(found.submodule_search_locations)), "kubernetes-json-schema")
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError:
        return None
    strict = re.compile(r"^v(\d+)\.(\d+)\.\d+-(?:local-)?strict$")
    minors = {(int(m[1]), int(m[2])) for m in map(strict.match, names) if m}
    return tuple(f"{major}.{minor}" for major, minor in sorted(minors))
