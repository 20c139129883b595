"""Pod Security `restricted`: the contexts dsenv writes, and the checker that proves them.

Pure data, no Pulumi: the stacks use the builders, and the tests and `dsenv check` use the
checker on everything the program emits: raw Kubernetes objects, custom resources (their
embedded pod templates) and Helm chart values (through the per-chart table of where each pod's
security contexts live in the values).

Checker API (all return a list of human-readable violations, empty when compliant):
- `check_container(pod_ctx, container_ctx, where)`: one container's effective context;
- `check_pod_spec(pod_spec, where)`: a core PodSpec (host namespaces, volumes, every container);
- `check_object(obj)`: a core workload object or a known custom resource;
- `check_chart_values(chart, values)`: a Helm release's values, by chart name
  (see `CHART_CONTEXTS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The uid/gid dsenv's images and the operators' images run as when the image does not say.
NOBODY = 65534
ALLOWED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
ALLOWED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
#: Volume types Pod Security `restricted` admits.
ALLOWED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
        "name",
    }
)


def restricted_pod_context(
    *, run_as_user: int | None = None, run_as_group: int | None = None, fs_group: int | None = None
) -> dict[str, Any]:
    """A pod-level securityContext meeting `restricted`."""
    ctx: dict[str, Any] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    if run_as_user is not None:
        ctx["runAsUser"] = run_as_user
    if run_as_group is not None:
        ctx["runAsGroup"] = run_as_group
    if fs_group is not None:
        ctx["fsGroup"] = fs_group
    return ctx


def restricted_container_context(
    *,
    run_as_user: int | None = None,
    run_as_group: int | None = None,
    read_only_root: bool = False,
) -> dict[str, Any]:
    """A container securityContext meeting `restricted` on its own (no pod context needed),
    so it stays compliant whichever pod-level context a chart template writes."""
    ctx: dict[str, Any] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if run_as_user is not None:
        ctx["runAsUser"] = run_as_user
    if run_as_group is not None:
        ctx["runAsGroup"] = run_as_group
    if read_only_root:
        ctx["readOnlyRootFilesystem"] = True
    return ctx


def _get(obj: Mapping[str, Any] | None, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else None


def check_container(
    pod_ctx: Mapping[str, Any] | None, container_ctx: Mapping[str, Any] | None, where: str
) -> list[str]:
    """One container's effective context (container fields override pod fields)."""
    problems: list[str] = []

    def effective(key: str) -> Any:
        value = _get(container_ctx, key)
        return value if value is not None else _get(pod_ctx, key)

    if _get(container_ctx, "privileged") is True:
        problems.append(f"{where}: privileged")
    if _get(container_ctx, "allowPrivilegeEscalation") is not False:
        problems.append(f"{where}: allowPrivilegeEscalation must be false")
    caps = _get(container_ctx, "capabilities") or {}
    if "ALL" not in (caps.get("drop") or []):
        problems.append(f"{where}: capabilities must drop ALL")
    added = set(caps.get("add") or []) - ALLOWED_CAPABILITIES
    if added:
        problems.append(f"{where}: adds capabilities {sorted(added)}")
    if effective("runAsNonRoot") is not True:
        problems.append(f"{where}: runAsNonRoot must be true")
    if effective("runAsUser") == 0:
        problems.append(f"{where}: runAsUser 0")
    seccomp = effective("seccompProfile") or {}
    if seccomp.get("type") not in ALLOWED_SECCOMP:
        problems.append(f"{where}: seccompProfile must be RuntimeDefault or Localhost")
    return problems


def check_pod_spec(pod_spec: Mapping[str, Any], where: str) -> list[str]:
    """A core PodSpec: host namespaces, volumes, ports and every container."""
    problems: list[str] = []
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(flag):
            problems.append(f"{where}: {flag}")
    for volume in pod_spec.get("volumes") or []:
        bad = set(volume) - ALLOWED_VOLUMES
        if bad:
            problems.append(f"{where}: volume {volume.get('name')!r} of type {sorted(bad)}")
    pod_ctx = pod_spec.get("securityContext")
    containers = [
        (kind, c)
        for kind in ("initContainers", "containers", "ephemeralContainers")
        for c in pod_spec.get(kind) or []
    ]
    if not containers:
        problems.append(f"{where}: no containers")
    for kind, container in containers:
        name = f"{where}.{kind}[{container.get('name')}]"
        problems += check_container(pod_ctx, container.get("securityContext"), name)
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                problems.append(f"{name}: hostPort {port['hostPort']}")
    return problems


#: Where a core workload kind keeps its PodSpec.
_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    # custom resources that embed a full core PodSpec
    "AutoscalingRunnerSet": ("spec", "template", "spec"),
}


def _dig(obj: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def pod_templates(
    obj: Mapping[str, Any],
) -> list[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]]:
    """(where, pod context, container context) for every container of a custom resource
    whose pod templates are not a core PodSpec. Empty for kinds without pods."""
    kind = obj.get("kind", "")
    name = f"{kind}/{_dig(obj, ('metadata', 'name'))}"
    spec = obj.get("spec") or {}
    found: list[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]] = []
    if kind in ("SparkApplication", "ScheduledSparkApplication"):
        app = spec.get("template", spec) if kind == "ScheduledSparkApplication" else spec
        for role in ("driver", "executor"):
            part = app.get(role) or {}
            found.append(
                (f"{name}.{role}", part.get("podSecurityContext"), part.get("securityContext"))
            )
    elif kind in ("Kafka", "KafkaNodePool"):
        templates: list[tuple[str, Mapping[str, Any]]] = []
        if kind == "KafkaNodePool":
            templates.append(("", spec.get("template") or {}))
        else:
            templates.append(("kafka", _dig(spec, ("kafka", "template")) or {}))
            eo = spec.get("entityOperator") or {}
            templates.append(("entityOperator", eo.get("template") or {}))
            for part in ("cruiseControl", "kafkaExporter"):
                if part in spec:
                    templates.append((part, _dig(spec, (part, "template")) or {}))
        container_keys = {
            "kafka": ["kafkaContainer", "initContainer"],
            "": ["kafkaContainer", "initContainer"],
            "entityOperator": ["topicOperatorContainer", "userOperatorContainer"],
            "cruiseControl": ["cruiseControlContainer"],
            "kafkaExporter": ["container"],
        }
        for part, template in templates:
            pod_ctx = _dig(template, ("pod", "securityContext"))
            for key in container_keys[part]:
                found.append(
                    (
                        f"{name}.{part or 'template'}.{key}",
                        pod_ctx,
                        _dig(template, (key, "securityContext")),
                    )
                )
    elif kind in ("Workflow", "WorkflowTemplate", "CronWorkflow", "ClusterWorkflowTemplate"):
        # Argo: the workflow's pod context, overridden per template; each container template's
        # container (and its init and sidecar containers). A CronWorkflow that only references
        # a WorkflowTemplate has no pods of its own (the template is checked where it is).
        wf = (spec.get("workflowSpec") or {}) if kind == "CronWorkflow" else spec
        for template in wf.get("templates") or []:
            pod_ctx = template.get("securityContext") or wf.get("securityContext")
            where = f"{name}.templates[{template.get('name')}]"
            for key in ("container", "script"):
                if key in template:
                    found.append(
                        (f"{where}.{key}", pod_ctx, (template[key] or {}).get("securityContext"))
                    )
            for key in ("initContainers", "sidecars"):
                for c in template.get(key) or []:
                    found.append((f"{where}.{key}", pod_ctx, c.get("securityContext")))
    elif kind == "InferenceService":
        for component in ("predictor", "transformer", "explainer"):
            part = spec.get(component)
            if not part:
                continue
            pod_ctx = part.get("securityContext")
            for key in ("model", "containers", "initContainers"):
                items = part.get(key)
                for c in items if isinstance(items, list) else [items] if items else []:
                    found.append((f"{name}.{component}.{key}", pod_ctx, c.get("securityContext")))
    return found


def check_object(obj: Mapping[str, Any]) -> list[str]:
    """Every pod template in a core workload object or a known custom resource."""
    kind = obj.get("kind", "")
    where = f"{kind}/{_dig(obj, ('metadata', 'name'))}"
    path = _POD_SPEC_PATHS.get(kind)
    if path is not None:
        pod_spec = _dig(obj, path)
        return (
            check_pod_spec(pod_spec or {}, where)
            if isinstance(pod_spec, Mapping)
            else [f"{where}: no pod spec"]
        )
    problems: list[str] = []
    for name, pod_ctx, container_ctx in pod_templates(obj):
        problems += check_container(pod_ctx, container_ctx, name)
    return problems


@dataclass(frozen=True)
class ValuesContext:
    """Where one pod's security contexts live in a chart's values."""

    pod: str
    pod_context: tuple[str, ...] | None  # None: the chart writes only a container context
    container_context: tuple[str, ...]


def _ctx(pod: str, pod_context: str | None, container_context: str) -> ValuesContext:
    return ValuesContext(
        pod,
        tuple(pod_context.split(".")) if pod_context else None,
        tuple(container_context.split(".")),
    )


#: chart name -> every pod the chart renders that dsenv configures, and where its contexts are
#: (read from each chart's values.yaml; dsenv sets every one of them).
CHART_CONTEXTS: dict[str, tuple[ValuesContext, ...]] = {
    "jupyterhub": (
        _ctx("hub", "hub.podSecurityContext", "hub.containerSecurityContext"),
        _ctx("proxy", None, "proxy.chp.containerSecurityContext"),
        _ctx(
            "singleuser",
            "hub.config.KubeSpawner.pod_security_context",
            "hub.config.KubeSpawner.container_security_context",
        ),
        _ctx("user-scheduler", None, "scheduling.userScheduler.containerSecurityContext"),
        _ctx("user-placeholder", None, "scheduling.userPlaceholder.containerSecurityContext"),
        _ctx("image-puller", None, "prePuller.containerSecurityContext"),
        _ctx("image-puller-pause", None, "prePuller.pause.containerSecurityContext"),
        _ctx("image-awaiter", None, "prePuller.hook.containerSecurityContext"),
    ),
    "spark-operator": (
        _ctx("controller", "controller.podSecurityContext", "controller.securityContext"),
        _ctx("webhook", "webhook.podSecurityContext", "webhook.securityContext"),
    ),
    "strimzi-kafka-operator": (_ctx("cluster-operator", "podSecurityContext", "securityContext"),),
    "gha-runner-scale-set-controller": (
        _ctx("controller", "podSecurityContext", "securityContext"),
    ),
    "kserve": (
        _ctx(
            "controller",
            "kserve.controller.securityContext",
            "kserve.controller.containerSecurityContext",
        ),
        # the storage initializer KServe injects into every predictor pod: the chart writes
        # this context into the ClusterStorageContainer `default`
        # (charts/kserve-resources/templates/clusterstoragecontainer.yaml), the only place
        # the injected container takes one from (kserve/kserve#5373)
        _ctx("storage-initializer", None, "kserve.storage.containerSecurityContext"),
    ),
    # the executor's init and wait containers in every workflow pod, and the main container's
    # defaults (argo-helm charts/argo-workflows values.yaml `executor`, `mainContainer`)
    "argo-workflows": (
        _ctx("controller", "controller.podSecurityContext", "controller.securityContext"),
        _ctx("executor", None, "executor.securityContext"),
        _ctx("main-container", None, "mainContainer.securityContext"),
    ),
    "cluster-autoscaler": (_ctx("autoscaler", "securityContext", "containerSecurityContext"),),
    "cert-manager": (
        _ctx("controller", "securityContext", "containerSecurityContext"),
        _ctx("webhook", "webhook.securityContext", "webhook.containerSecurityContext"),
        _ctx("cainjector", "cainjector.securityContext", "cainjector.containerSecurityContext"),
        _ctx(
            "startupapicheck",
            "startupapicheck.securityContext",
            "startupapicheck.containerSecurityContext",
        ),
    ),
}

#: Values that must hold for a chart's pods to stay `restricted` (a privileged helper otherwise).
CHART_REQUIRED: dict[str, dict[tuple[str, ...], Any]] = {
    # the metadata-blocking init container runs privileged with NET_ADMIN; a NetworkPolicy
    # blocks the metadata server instead
    "jupyterhub": {("singleuser", "cloudMetadata", "blockWithIptables"): False},
}


def check_chart_values(chart: str, values: Mapping[str, Any]) -> list[str]:
    """Every configured pod of a chart release. Charts dsenv does not know pass unchecked;
    the gha-runner-scale-set chart holds PodSpecs under `template.spec` (runners) and
    `listenerTemplate.spec` (the listener)."""
    problems: list[str] = []
    if chart == "gha-runner-scale-set":
        pod_spec = _dig(values, ("template", "spec"))
        if not isinstance(pod_spec, Mapping):
            return [f"{chart}: values without template.spec"]
        problems = check_pod_spec(pod_spec, f"{chart}.template")
        # the listener pod: the chart merges this partial PodSpec into its own
        listener = _dig(values, ("listenerTemplate", "spec"))
        if not isinstance(listener, Mapping):
            return [*problems, f"{chart}: values without listenerTemplate.spec"]
        return problems + check_pod_spec(listener, f"{chart}.listenerTemplate")
    for ctx in CHART_CONTEXTS.get(chart, ()):
        pod_ctx = _dig(values, ctx.pod_context) if ctx.pod_context else None
        problems += check_container(
            pod_ctx, _dig(values, ctx.container_context), f"{chart}.{ctx.pod}"
        )
    for path, expected in CHART_REQUIRED.get(chart, {}).items():
        if _dig(values, path) != expected:
            problems.append(f"{chart}: {'.'.join(path)} must be {expected!r}")
    return problems


def check_all(objects: Iterable[Mapping[str, Any]]) -> list[str]:
    return [p for obj in objects for p in check_object(obj)]
