"""Facts about an existing cluster, for `dsenv doctor`: which kubeconfig context the
profile reaches, the API server's version, and whether the operators and CRDs a team with
`target.operators: shared` relies on are installed.

It reads the kubeconfig as kubectl does (KUBECONFIG lists files, the first to set a value
wins; default ~/.kube/config) and talks to the API server with the standard library: client
certificates, bearer tokens (inline or a file), basic auth and `exec` credential plugins
(gke-gcloud-auth-plugin, kubelogin, `aws eks get-token`), which cover kind, on-premise,
GKE, AKS and EKS clusters. Only GET requests are made.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dsenv.live.doctor import Check, Status
    from dsenv.spec.model import EnvironmentSpec

TIMEOUT = 10.0  # seconds per request: doctor must answer quickly, reachable or not


class ClusterError(Exception):
    """The kubeconfig or the API server said no; the message says what to fix."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class KubeConfig:
    files: tuple[Path, ...]
    current_context: str | None
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    origin: dict[str, Path] = field(default_factory=dict)  # file each cluster/user came from


def kubeconfig_files(env: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    env = os.environ if env is None else env
    listed = env.get("KUBECONFIG", "")
    paths = [p for p in listed.split(os.pathsep) if p] or ["~/.kube/config"]
    return tuple(Path(p).expanduser() for p in paths)


def load_kubeconfig(env: Mapping[str, str] | None = None) -> KubeConfig:
    """The merged kubeconfig; ClusterError when no file exists or one does not parse."""
    import yaml

    files = kubeconfig_files(env)
    existing = [f for f in files if f.is_file()]
    if not existing:
        raise ClusterError(
            f"no kubeconfig at {', '.join(str(f) for f in files)}",
            "set KUBECONFIG, or create a context (kind create cluster, gcloud container "
            "clusters get-credentials, az aks get-credentials, aws eks update-kubeconfig)",
        )
    current: str | None = None
    sections: dict[str, dict[str, dict[str, Any]]] = {"contexts": {}, "clusters": {}, "users": {}}
    origin: dict[str, Path] = {}
    for path in existing:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ClusterError(f"{path} does not parse: {exc}", "fix or regenerate it") from exc
        if not isinstance(doc, dict):
            raise ClusterError(f"{path} is not a kubeconfig", "fix or regenerate it")
        current = current or doc.get("current-context") or None
        for section, key in (("contexts", "context"), ("clusters", "cluster"), ("users", "user")):
            for entry in doc.get(section) or []:
                name = entry.get("name") if isinstance(entry, dict) else None
                if name and name not in sections[section]:  # the first file wins
                    sections[section][name] = entry.get(key) or {}
                    origin[f"{section}/{name}"] = path
    return KubeConfig(tuple(existing), current, **sections, origin=origin)


def resolve_context(config: KubeConfig, context: str | None) -> str:
    """The profile's context, else the current one; ClusterError naming the known ones."""
    name = context or config.current_context
    known = ", ".join(sorted(config.contexts)) or "none"
    if not name:
        raise ClusterError(
            f"the kubeconfig has no current context ({known} known)",
            "kubectl config use-context NAME, or set target.context in the profile",
        )
    if name not in config.contexts:
        raise ClusterError(
            f"context {name!r} is not in {', '.join(str(f) for f in config.files)} "
            f"(known: {known})",
            "create it, or fix target.context in the profile",
        )
    return name


def current_context(env: Mapping[str, str] | None = None) -> str | None:
    """The kubeconfig's current context, or None when there is none (or no kubeconfig)."""
    try:
        return load_kubeconfig(env).current_context
    except ClusterError:
        return None


def with_current_context(spec: EnvironmentSpec) -> EnvironmentSpec:
    """A target kubernetes spec without a context, on the kubeconfig's current one, named.

    Every engine operation (up, preview, drift) runs on the spec this returns, so the stack
    records which cluster it is on, and a later run from another current context shows up
    as a change of cluster instead of silently acting on the other one."""
    if spec.provider != "kubernetes" or spec.kube_context is not None:
        return spec
    import dataclasses

    return dataclasses.replace(spec, kube_context=current_context())


class ApiClient:
    """GET requests to one context's API server."""

    def __init__(self, config: KubeConfig, context: str) -> None:
        ctx = config.contexts[context]
        cluster_name, user_name = ctx.get("cluster"), ctx.get("user")
        if cluster_name not in config.clusters:
            raise ClusterError(f"context {context!r} names cluster {cluster_name!r}, not defined")
        self.cluster = config.clusters[cluster_name]
        self.user = config.users.get(user_name or "", {})
        self.base = str(self.cluster.get("server") or "").rstrip("/")
        if not self.base:
            raise ClusterError(f"cluster {cluster_name!r} has no server URL")
        self.relative_to = config.origin.get(f"clusters/{cluster_name}", config.files[0]).parent
        self.user_relative_to = config.origin.get(f"users/{user_name}", config.files[0]).parent
        self._headers: dict[str, str] | None = None
        self._context: ssl.SSLContext | None = None
        self._token: str | None = None
        self._exec_status: dict[str, Any] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    # -- credentials -----------------------------------------------------------------------

    def _path(self, value: str, relative_to: Path) -> str:
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else relative_to / path)

    def _secret_file(self, name: str, data: str | bytes) -> str:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dsenv-kube-")
        path = Path(self._tmp.name) / name
        path.touch(mode=0o600)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        return str(path)

    def _exec(self) -> dict[str, Any]:
        spec = self.user["exec"]
        command = [str(spec.get("command", "")), *(str(a) for a in spec.get("args") or [])]
        env = {**os.environ, **{e["name"]: str(e["value"]) for e in spec.get("env") or []}}
        api = spec.get("apiVersion", "client.authentication.k8s.io/v1")
        env["KUBERNETES_EXEC_INFO"] = json.dumps(
            {"apiVersion": api, "kind": "ExecCredential", "spec": {"interactive": False}}
        )
        try:
            run = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=60, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            hint = spec.get("installHint") or f"install {command[0]} or fix the kubeconfig"
            raise ClusterError(f"credential plugin {command[0]!r} failed: {exc}", hint) from exc
        if run.returncode != 0:
            raise ClusterError(
                f"credential plugin {command[0]!r} exited {run.returncode}: "
                f"{run.stderr.strip()[:300]}",
                spec.get("installHint") or "sign in with the cluster's tool and retry",
            )
        try:
            status: dict[str, Any] = json.loads(run.stdout).get("status") or {}
        except ValueError as exc:
            raise ClusterError(f"credential plugin {command[0]!r} printed no JSON") from exc
        return status

    def _tls(self) -> ssl.SSLContext:
        cluster, user = self.cluster, self.user
        context = ssl.create_default_context()
        if cluster.get("insecure-skip-tls-verify"):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif cluster.get("certificate-authority-data"):
            pem = base64.b64decode(cluster["certificate-authority-data"]).decode()
            context.load_verify_locations(cadata=pem)
        elif cluster.get("certificate-authority"):
            ca = self._path(cluster["certificate-authority"], self.relative_to)
            context.load_verify_locations(cafile=ca)
        cert = key = None
        if user.get("client-certificate-data"):
            cert = self._secret_file(
                "client.crt", base64.b64decode(user["client-certificate-data"])
            )
        elif user.get("client-certificate"):
            cert = self._path(user["client-certificate"], self.user_relative_to)
        if user.get("client-key-data"):
            key = self._secret_file("client.key", base64.b64decode(user["client-key-data"]))
        elif user.get("client-key"):
            key = self._path(user["client-key"], self.user_relative_to)
        status = self._exec_status
        if status.get("clientCertificateData"):
            cert = self._secret_file("exec.crt", status["clientCertificateData"])
            key = self._secret_file("exec.key", status.get("clientKeyData", ""))
        if cert:
            context.load_cert_chain(cert, key)
        return context

    def _auth_headers(self) -> dict[str, str]:
        user = self.user
        token = self._token or user.get("token")
        if not token and user.get("tokenFile"):
            token = Path(self._path(user["tokenFile"], self.user_relative_to)).read_text().strip()
        if token:
            return {"Authorization": f"Bearer {token}"}
        if user.get("username") and user.get("password"):
            pair = f"{user['username']}:{user['password']}".encode()
            return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
        if "auth-provider" in user:
            name = (user["auth-provider"] or {}).get("name", "?")
            raise ClusterError(
                f"the kubeconfig signs in with the retired auth-provider {name!r}",
                "regenerate the context with the provider's exec plugin "
                "(gke-gcloud-auth-plugin, kubelogin convert-kubeconfig)",
            )
        return {}

    # -- requests --------------------------------------------------------------------------

    def get(self, path: str) -> dict[str, Any] | None:
        """The JSON at `path`, or None for 404; ClusterError for anything else."""
        url = self.base + path
        tls, headers = self._prepare()
        handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=tls)]
        if _is_loopback(url):
            handlers.append(urllib.request.ProxyHandler({}))  # as kubectl: never proxy loopback
        opener = urllib.request.build_opener(*handlers)
        request = urllib.request.Request(url, headers=headers, method="GET")
        try:
            with opener.open(request, timeout=TIMEOUT) as response:
                body: dict[str, Any] = json.loads(response.read().decode())
                return body
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            if exc.code in (401, 403):
                raise ClusterError(
                    f"{self.base} refused {path} ({exc.code} {exc.reason})",
                    "sign in again, or ask the cluster admin for read access to it",
                ) from exc
            raise ClusterError(f"{self.base}{path}: {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ClusterError(
                f"the API server {self.base} is not reachable: {reason}",
                "check the network path (VPN, kind cluster running) and the context",
            ) from exc

    def _prepare(self) -> tuple[ssl.SSLContext | None, dict[str, str]]:
        """TLS and credentials, once (an exec plugin runs once per client); key material
        written for the TLS library is removed as soon as it is loaded."""
        if self._headers is None:
            try:
                self._exec_status = self._exec() if "exec" in self.user else {}
                if self._exec_status.get("token"):
                    self._token = str(self._exec_status["token"])
                self._context = self._tls() if self.base.startswith("https:") else None
                self._headers = {"Accept": "application/json", **self._auth_headers()}
            except (OSError, ssl.SSLError, ValueError) as exc:
                raise ClusterError(f"the kubeconfig's credentials do not load: {exc}") from exc
            finally:
                if self._tmp is not None:
                    self._tmp.cleanup()
                    self._tmp = None
        return self._context, self._headers

    def server_version(self) -> str:
        info = self.get("/version") or {}
        return str(info.get("gitVersion") or "unknown")

    def crd_installed(self, name: str) -> bool:
        return (
            self.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}") is not None
        )

    def deployments(self, namespace: str) -> list[tuple[str, int, int]]:
        """(name, ready replicas, desired replicas) of the Deployments in `namespace`."""
        listing = self.get(f"/apis/apps/v1/namespaces/{urllib.parse.quote(namespace)}/deployments")
        out = []
        for item in (listing or {}).get("items") or []:
            spec, status = item.get("spec") or {}, item.get("status") or {}
            desired = int(spec.get("replicas", 1))
            out.append((item["metadata"]["name"], int(status.get("readyReplicas") or 0), desired))
        return out


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---- what a shared-operator team needs -----------------------------------------------------


@dataclass(frozen=True)
class OperatorNeed:
    """One shared operator a team relies on: where it must run, the CRDs it serves, and how
    the cluster's platform team installs it (the chart and version dsenv would install)."""

    capability: str
    operator: str
    namespace: str
    crds: tuple[str, ...]
    install: str


def shared_operator_needs(spec: EnvironmentSpec) -> list[OperatorNeed]:
    """The operators a `target.operators: shared` team's objects need, from its spec."""
    from dsenv.spec import versions

    def helm(chart: versions.Chart, release: str, namespace: str, *sets: str) -> str:
        if chart.repository.startswith("oci://"):
            ref = f"{chart.repository.rstrip('/')}/{chart.name}"
        else:
            ref = f"{chart.name} --repo {chart.repository}"
        extra = "".join(f" --set {s}" for s in sets)
        return (
            f"helm install {release} {ref} --version {chart.version} "
            f"--namespace {namespace} --create-namespace{extra}"
        )

    needs: list[OperatorNeed] = []
    team_ns = spec.namespace.name
    if (
        spec.spark is not None
        and spec.spark.engine == "operator"
        and not spec.spark.install_operator
    ):
        ns = spec.spark.operator_namespace
        needs.append(
            OperatorNeed(
                "spark",
                "Spark operator",
                ns,
                ("sparkapplications.sparkoperator.k8s.io",),
                helm(
                    versions.SPARK_OPERATOR,
                    "spark-operator",
                    ns,
                    f"'spark.jobNamespaces={{{team_ns}}}'",
                ),
            )
        )
    if (
        spec.kafka is not None
        and spec.kafka.engine == "strimzi"
        and not spec.kafka.install_operator
    ):
        ns = spec.kafka.operator_namespace
        crds = tuple(
            f"{k}.kafka.strimzi.io"
            for k in ("kafkas", "kafkanodepools", "kafkatopics", "kafkausers")
        )
        needs.append(
            OperatorNeed(
                "kafka",
                "Strimzi",
                ns,
                crds,
                helm(versions.STRIMZI, "strimzi", ns, "watchAnyNamespace=true"),
            )
        )
    if spec.serving is not None and not spec.serving.install_operator:
        ns = spec.serving.operator_namespace
        needs.append(
            OperatorNeed(
                "serving",
                "KServe",
                ns,
                ("inferenceservices.serving.kserve.io", "certificates.cert-manager.io"),
                " && ".join(
                    (
                        helm(
                            versions.CERT_MANAGER,
                            "cert-manager",
                            "cert-manager",
                            "crds.enabled=true",
                        ),
                        helm(versions.KSERVE_CRD, "kserve-crd", ns),
                        helm(
                            versions.KSERVE,
                            "kserve",
                            ns,
                            "kserve.controller.deploymentMode=RawDeployment",
                        ),
                    )
                ),
            )
        )
    if spec.runners is not None and not spec.runners.install_operator:
        ns = spec.runners.controller_namespace
        needs.append(
            OperatorNeed(
                "runners",
                "Actions Runner Controller",
                ns,
                ("autoscalingrunnersets.actions.github.com",),
                # release `arc`: its service account is the one the scale sets bind
                helm(versions.ARC_CONTROLLER, "arc", ns),
            )
        )
    pipelines = spec.pipelines
    if pipelines is not None and pipelines.workflows and not pipelines.install_controller:
        ns = pipelines.controller_namespace
        crds = tuple(
            f"{k}.argoproj.io" for k in ("workflows", "workflowtemplates", "cronworkflows")
        )
        needs.append(
            OperatorNeed(
                "pipelines",
                "Argo Workflows",
                ns,
                crds,
                # restricted workflow pods need the executor's security context set cluster-wide
                helm(
                    versions.ARGO_WORKFLOWS,
                    "argo-workflows",
                    ns,
                    "executor.securityContext.runAsNonRoot=true",
                    "executor.securityContext.allowPrivilegeEscalation=false",
                    "'executor.securityContext.capabilities.drop={ALL}'",
                    "executor.securityContext.seccompProfile.type=RuntimeDefault",
                    "server.enabled=false",
                ),
            )
        )
    return needs


# ---- doctor ---------------------------------------------------------------------------------


def cluster_checks(
    spec: EnvironmentSpec | None = None, env: Mapping[str, str] | None = None
) -> list[Check]:
    """The kube context (the profile's, else the current one), the API server's version, and
    for a shared-operator team each operator and CRD it needs."""
    from dsenv.live.doctor import Check

    wanted = spec.kube_context if spec is not None else None
    needed = spec is not None and spec.provider == "kubernetes"
    level: Status = "fail" if needed else "warn"
    try:
        config = load_kubeconfig(env)
        context = resolve_context(config, wanted)
    except ClusterError as exc:
        return [Check("kube context", level, exc.message, exc.fix)]
    source = "the profile's" if wanted else "current"
    checks = [
        Check("kube context", "ok", f"{context} ({source}; {', '.join(map(str, config.files))})")
    ]
    try:
        client = ApiClient(config, context)
        version = client.server_version()
    except ClusterError as exc:
        checks.append(Check("API server", level, exc.message, exc.fix))
        return checks
    detail = f"{client.base}: Kubernetes {version}"
    if spec is not None and spec.provider == "kubernetes":
        minor = ".".join(version.lstrip("v").split(".")[:2])
        if minor != spec.kubernetes_version:
            checks.append(
                Check(
                    "API server",
                    "warn",
                    f"{detail}; the profile says {spec.kubernetes_version}",
                    f'set target.kubernetes_version: "{minor}" (dsenv check validates against it)',
                )
            )
        else:
            checks.append(Check("API server", "ok", detail))
    else:
        checks.append(Check("API server", "ok", detail))
    if spec is None or spec.provider != "kubernetes":
        return checks
    for need in shared_operator_needs(spec):
        checks.append(_operator_check(client, need))
    return checks


def _operator_check(client: ApiClient, need: OperatorNeed) -> Check:
    from dsenv.live.doctor import Check

    name = f"shared {need.operator}"
    try:
        missing = [crd for crd in need.crds if not client.crd_installed(crd)]
        deployments = client.deployments(need.namespace)
    except ClusterError as exc:
        return Check(name, "fail", exc.message, exc.fix)
    ready = [d for d, ok, want in deployments if ok >= want > 0]
    problems = []
    if missing:
        problems.append(f"CRDs missing: {', '.join(missing)}")
    if not deployments:
        problems.append(f"no operator Deployment in namespace {need.namespace}")
    if problems:
        return Check(name, "fail", "; ".join(problems), need.install)
    if not ready:
        names = ", ".join(d for d, *_ in deployments)
        return Check(
            name,
            "warn",
            f"installed in {need.namespace} ({names}), but no Deployment is ready",
            f"kubectl -n {need.namespace} get pods",
        )
    return Check(name, "ok", f"{need.namespace}: {', '.join(ready)}; CRDs {', '.join(need.crds)}")
