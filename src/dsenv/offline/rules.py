"""dsenv's security rules, written once over a resource graph.

`dsenv check` runs them on the graph captured offline; the CrossGuard pack in `policy/`
turns the engine's view of a live preview into the same `ResourceGraph` and runs the same
functions, so the two can never disagree.

Each rule yields `Hit`s (resource, property path, message); `run_rules` turns them into
`Finding`s carrying the rule id and severity.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from dsenv.offline.graph import Resource, ResourceGraph

SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    urn: str
    name: str
    type: str
    path: str  # property path inside the resource's inputs ("" for the whole resource)
    message: str

    def to_json(self) -> dict[str, str]:
        return dict(self.__dict__)


class Hit(NamedTuple):
    resource: Resource
    path: str
    message: str
    severity: str | None = None  # None: the rule's own severity


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    description: str
    check: Callable[[ResourceGraph], Iterable[Hit]]


def _dig(obj: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _dependents(graph: ResourceGraph, target: Resource, prefix: str) -> list[Resource]:
    """Resources of a type starting with `prefix` that depend on `target` (through an input
    such as `bucket=b.id` or an explicit dependency)."""
    return [r for r in graph if r.type.startswith(prefix) and target.urn in r.dependencies]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- Pod Security `restricted` ----------------------------------------------------------


def _is_kubernetes_object(r: Resource) -> bool:
    return (
        r.custom
        and r.type.startswith("kubernetes:")
        and "kind" in r.inputs
        and "apiVersion" in r.inputs
    )


def chart_name(r: Resource) -> str:
    chart = str(r.inputs.get("chart", ""))
    return chart.rstrip("/").rsplit("/", 1)[-1]


def pod_security(graph: ResourceGraph) -> Iterator[Hit]:
    from dsenv.stacks.components.podsecurity import check_chart_values, check_object

    for r in graph:
        if _is_kubernetes_object(r):
            for problem in check_object(r.inputs):
                yield Hit(r, "spec", f"not Pod Security restricted: {problem}")
        elif r.type.startswith("kubernetes:helm.sh/") and isinstance(
            r.inputs.get("values"), Mapping
        ):
            for problem in check_chart_values(chart_name(r), r.inputs["values"]):
                yield Hit(r, "values", f"not Pod Security restricted: {problem}")


# --- pipelines ----------------------------------------------------------------------------


def _service_account_of(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """(path, name) of the service account a scheduled object's pods run as."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "CronJob":
        path = "spec.jobTemplate.spec.template.spec.serviceAccountName"
        return path, _dig(obj, path) or "default"
    if kind in ("WorkflowTemplate", "Workflow"):
        if "workflowTemplateRef" in spec:
            return None
        return "spec.serviceAccountName", spec.get("serviceAccountName") or "default"
    if kind == "ScheduledSparkApplication":
        path = "spec.template.driver.serviceAccount"
        return path, _dig(obj, path) or "default"
    return None


def pipelines_runnable(graph: ResourceGraph) -> Iterator[Hit]:
    """A scheduled job, Spark job or workflow can start: its pods' service account exists
    (the API server refuses pods naming a missing one), and a CronWorkflow's template
    exists."""
    objects = [r for r in graph if _is_kubernetes_object(r)]

    def names(kind: str) -> set[tuple[str, str]]:
        return {
            (str(_dig(r.inputs, "metadata.namespace")), str(_dig(r.inputs, "metadata.name")))
            for r in objects
            if r.inputs.get("kind") == kind
        }

    accounts, templates = names("ServiceAccount"), names("WorkflowTemplate")
    for r in objects:
        obj = r.inputs
        namespace = str(_dig(obj, "metadata.namespace"))
        found = _service_account_of(obj)
        # `default` exists in every namespace; any other account must be one dsenv creates
        if found is not None and found[1] != "default" and (namespace, found[1]) not in accounts:
            yield Hit(
                r,
                found[0],
                f"its pods run as service account {found[1]!r}, which no object creates",
            )
        if obj.get("kind") == "CronWorkflow":
            ref = _dig(obj, "spec.workflowSpec.workflowTemplateRef.name")
            if ref is not None and (namespace, str(ref)) not in templates:
                yield Hit(
                    r,
                    "spec.workflowSpec.workflowTemplateRef.name",
                    f"it runs WorkflowTemplate {ref!r}, which no object creates",
                )


# --- JupyterHub sign-in ------------------------------------------------------------------

#: Authenticators that let anyone in: dummy takes any user name (and any password unless one
#: is set); the chart's default is dummy, so an unset class counts as dummy.
_OPEN_AUTHENTICATORS = ("dummy", "jupyterhub.auth.DummyAuthenticator", "dummyauthenticator")
_LOCKED_AUTHENTICATORS = ("null", "jupyterhub.auth.NullAuthenticator")


def hub_auth(graph: ResourceGraph) -> Iterator[Hit]:
    """A JupyterHub release must not use the dummy authenticator, nor hold an OAuth client
    secret inline in its values; a locked hub (null authenticator) is reported low."""
    for r in graph:
        values = r.inputs.get("values")
        if not (
            r.type.startswith("kubernetes:helm.sh/")
            and chart_name(r) == "jupyterhub"
            and isinstance(values, Mapping)
        ):
            continue
        path = "values.hub.config.JupyterHub.authenticator_class"
        cls = _dig(values, "hub.config.JupyterHub.authenticator_class") or "dummy"
        if cls in _OPEN_AUTHENTICATORS:
            yield Hit(
                r, path, f"the hub signs in anyone ({cls} authenticator); set workspaces.auth"
            )
        elif cls in _LOCKED_AUTHENTICATORS:
            yield Hit(r, path, "the hub is locked: nobody can sign in; set workspaces.auth", "low")
        config = _dig(values, "hub.config") or {}
        for section, settings in config.items():
            if isinstance(settings, Mapping) and settings.get("client_secret"):
                yield Hit(
                    r,
                    f"values.hub.config.{section}.client_secret",
                    "OAuth client secret written into chart values; reference a Kubernetes secret",
                )


# --- S3 ---------------------------------------------------------------------------------

_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
_BLOCKS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _buckets(graph: ResourceGraph) -> list[Resource]:
    return [r for r in graph if r.type in _BUCKETS]


def s3_public_access_block(graph: ResourceGraph) -> Iterator[Hit]:
    for b in _buckets(graph):
        blocks = _dependents(graph, b, "aws:s3/bucketPublicAccessBlock:")
        if not blocks:
            yield Hit(b, "", "no BucketPublicAccessBlock for this bucket")
        for pab in blocks:
            for flag in _BLOCKS:
                if pab.inputs.get(flag) is not True:
                    yield Hit(pab, flag, f"{flag} must be true on bucket {b.name}")


def s3_encryption(graph: ResourceGraph) -> Iterator[Hit]:
    for b in _buckets(graph):
        configs = _dependents(graph, b, "aws:s3/bucketServerSideEncryptionConfiguration")
        inline = _dig(
            b.inputs,
            "serverSideEncryptionConfiguration.rule.applyServerSideEncryptionByDefault.sseAlgorithm",
        )
        algorithms = [inline] if inline else []
        for c in configs:
            algorithms += [
                _dig(rule, "applyServerSideEncryptionByDefault.sseAlgorithm")
                for rule in _as_list(c.inputs.get("rules"))
            ]
        if not any(a in ("aws:kms", "aws:kms:dsse", "AES256") for a in algorithms):
            yield Hit(
                b,
                "serverSideEncryptionConfiguration",
                "no default server-side encryption (SSE-KMS or SSE-S3)",
            )


def s3_versioning(graph: ResourceGraph) -> Iterator[Hit]:
    for b in _buckets(graph):
        enabled = _dig(b.inputs, "versioning.enabled") is True or any(
            _dig(v.inputs, "versioningConfiguration.status") == "Enabled"
            for v in _dependents(graph, b, "aws:s3/bucketVersioning")
        )
        if not enabled:
            yield Hit(b, "versioning", "versioning is not enabled")


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def _denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    everyone = principal == "*" or (
        isinstance(principal, Mapping) and "*" in _as_list(principal.get("AWS"))
    )
    actions = _as_list(statement.get("Action"))
    condition = _dig(statement, "Condition.Bool.aws:SecureTransport")
    return (
        statement.get("Effect") == "Deny"
        and everyone
        and any(a in ("s3:*", "*") for a in actions)
        and str(condition).lower() == "false"
    )


def s3_tls_only(graph: ResourceGraph) -> Iterator[Hit]:
    for b in _buckets(graph):
        policies = _dependents(graph, b, "aws:s3/bucketPolicy:")
        if not any(
            _denies_insecure_transport(s)
            for p in policies
            for s in _statements(p.inputs.get("policy"))
        ):
            yield Hit(
                b,
                "policy",
                "no bucket policy denying requests without TLS (aws:SecureTransport false)",
            )


# --- EKS --------------------------------------------------------------------------------


def _clusters(graph: ResourceGraph) -> list[Resource]:
    return graph.of_type("aws:eks/cluster:Cluster")


def eks_private_endpoint(graph: ResourceGraph) -> Iterator[Hit]:
    for c in _clusters(graph):
        vpc = c.inputs.get("vpcConfig") or {}
        if vpc.get("endpointPrivateAccess") is not True:
            yield Hit(
                c, "vpcConfig.endpointPrivateAccess", "the private API endpoint must be enabled"
            )
        # the API defaults to a public endpoint open to 0.0.0.0/0 when not told otherwise
        if vpc.get("endpointPublicAccess") is not False:
            cidrs = _as_list(vpc.get("publicAccessCidrs"))
            if not cidrs or "0.0.0.0/0" in cidrs:
                yield Hit(
                    c,
                    "vpcConfig.publicAccessCidrs",
                    "the public API endpoint is open to the internet; disable it or list CIDRs",
                )


def eks_secrets_encryption(graph: ResourceGraph) -> Iterator[Hit]:
    for c in _clusters(graph):
        configs = _as_list(c.inputs.get("encryptionConfig"))
        if not any(
            "secrets" in _as_list(e.get("resources")) and _dig(e, "provider.keyArn")
            for e in configs
        ):
            yield Hit(c, "encryptionConfig", "Kubernetes secrets must be encrypted with a KMS key")


def eks_audit_logs(graph: ResourceGraph) -> Iterator[Hit]:
    for c in _clusters(graph):
        types = _as_list(c.inputs.get("enabledClusterLogTypes"))
        missing = [t for t in ("api", "audit", "authenticator") if t not in types]
        if missing:
            yield Hit(
                c, "enabledClusterLogTypes", f"control-plane logs not enabled: {', '.join(missing)}"
            )


# --- ECR --------------------------------------------------------------------------------


def ecr_scan_on_push(graph: ResourceGraph) -> Iterator[Hit]:
    for r in graph.of_type("aws:ecr/repository:Repository"):
        if _dig(r.inputs, "imageScanningConfiguration.scanOnPush") is not True:
            yield Hit(r, "imageScanningConfiguration.scanOnPush", "images must be scanned on push")


def ecr_immutable_tags(graph: ResourceGraph) -> Iterator[Hit]:
    for r in graph.of_type("aws:ecr/repository:Repository"):
        if r.inputs.get("imageTagMutability") not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
            yield Hit(r, "imageTagMutability", "image tags must be immutable")


# --- IAM --------------------------------------------------------------------------------

#: (type, input path) of every IAM policy document an identity or resource can carry.
_DOCUMENTS = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
}


def policy_documents(
    graph: ResourceGraph, *, identity_only: bool = False
) -> Iterator[tuple[Resource, str, Any]]:
    """(resource, path, document) of every permissions policy in the graph (not trust policies)."""
    for r in graph:
        path = _DOCUMENTS.get(r.type)
        if (
            path
            and r.inputs.get(path)
            and not (identity_only and r.type.startswith(("aws:s3/", "aws:ecr/")))
        ):
            yield r, path, r.inputs[path]
        if r.type == "aws:iam/role:Role":
            for i, inline in enumerate(_as_list(r.inputs.get("inlinePolicies"))):
                if isinstance(inline, Mapping) and inline.get("policy"):
                    yield r, f"inlinePolicies[{i}].policy", inline["policy"]


def iam_no_wildcard_admin(graph: ResourceGraph) -> Iterator[Hit]:
    for r, path, document in policy_documents(graph):
        for i, s in enumerate(_statements(document)):
            actions = _as_list(s.get("Action"))
            resources = _as_list(s.get("Resource"))
            if (
                s.get("Effect") == "Allow"
                and any(a in ("*", "*:*") for a in actions)
                and ("*" in resources or not resources)
            ):
                yield Hit(
                    r, f"{path}.Statement[{i}]", "allows every action (*) on every resource (*)"
                )
    for r in graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        if str(r.inputs.get("policyArn", "")).endswith(":policy/AdministratorAccess"):
            yield Hit(r, "policyArn", "attaches AdministratorAccess")


#: The one pattern a trust may match `sub` with: the job service accounts EMR on EKS creates
#: per job run, `emr-containers-sa-<driver|executor|...>-<id>-<account>-<base36(role)>` in one
#: namespace (the trust `aws emr-containers update-role-trust-policy` writes; EMR on EKS
#: guide, "Update the trust policy of the job execution role"). It pins the namespace, the
#: account and the role, so only EMR's job pods for that role can assume it.
_EMR_JOB_SUB = re.compile(
    r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:emr-containers-sa-\*-\*-\d{12}-[0-9a-z]+$"
)


def _is_emr_job_trust(like: Any, role_name: str) -> bool:
    """StringLike holds one `sub` pattern: EMR on EKS's job service accounts of this role."""
    from dsenv.spec.names import base36

    if not isinstance(like, Mapping) or len(like) != 1:
        return False
    ((key, value),) = like.items()
    values = _as_list(value)
    return (
        str(key).endswith(":sub")
        and len(values) == 1
        and bool(_EMR_JOB_SUB.match(str(values[0])))
        and str(values[0]).endswith(f"-{base36(role_name)}")
    )


def iam_irsa_trust(graph: ResourceGraph) -> Iterator[Hit]:
    """A role assumable through the cluster's OIDC provider must name exactly one service
    account (`sub`) and the STS audience (`aud`), with StringEquals, never a wildcard; the
    one exception is EMR on EKS's job service accounts of one role in one namespace."""
    for r in graph.of_type("aws:iam/role:Role"):
        for i, s in enumerate(_statements(r.inputs.get("assumeRolePolicy"))):
            federated = _as_list(_dig(s, "Principal.Federated"))
            if "sts:AssumeRoleWithWebIdentity" not in _as_list(s.get("Action")) or not any(
                "oidc-provider" in str(f) for f in federated
            ):
                continue
            where = f"assumeRolePolicy.Statement[{i}].Condition"
            equals = _dig(s, "Condition.StringEquals") or {}
            if s.get("Effect") != "Allow":
                continue
            like = _dig(s, "Condition.StringLike") or {}
            emr_job = _is_emr_job_trust(like, str(r.inputs.get("name", "")))
            if like and not emr_job:
                yield Hit(
                    r, f"{where}.StringLike", "IRSA trust must use StringEquals, not StringLike"
                )
            subs = [v for k, v in equals.items() if str(k).endswith(":sub")]
            auds = [v for k, v in equals.items() if str(k).endswith(":aud")]
            sub_values = [x for v in subs for x in _as_list(v)]
            if emr_job and not sub_values:
                pass  # EMR on EKS's job service accounts, matched by its pattern
            elif (
                len(sub_values) != 1
                or not str(sub_values[0]).startswith("system:serviceaccount:")
                or ("*" in str(sub_values[0]) or str(sub_values[0]).count(":") != 3)
            ):
                yield Hit(
                    r,
                    f"{where}.StringEquals",
                    "IRSA trust must name exactly one service account "
                    "(`<issuer>:sub` = system:serviceaccount:NAMESPACE:NAME)",
                )
            if [x for v in auds for x in _as_list(v)] != ["sts.amazonaws.com"]:
                yield Hit(
                    r,
                    f"{where}.StringEquals",
                    "IRSA trust must require `<issuer>:aud` = sts.amazonaws.com",
                )


_PARLIAMENT_SEVERITY = {
    "CRITICAL": "critical",
    "HIGH": "high",
    "MEDIUM": "medium",
    "LOW": "low",
    "INFO": "low",
}


def iam_parliament(graph: ResourceGraph) -> Iterator[Hit]:
    """Every identity policy document through parliament's IAM linter."""
    try:
        import parliament
    except ImportError:  # the policy pack may run without the linter
        return
    for r, path, document in policy_documents(graph, identity_only=True):
        text = document if isinstance(document, str) else json.dumps(document)
        for finding in parliament.analyze_policy_string(text).findings:
            severity = str(parliament.config.get(finding.issue, {}).get("severity", "MEDIUM"))
            yield Hit(
                r,
                path,
                f"parliament {finding.issue}: {finding.detail}",
                _PARLIAMENT_SEVERITY.get(severity, "medium"),
            )


RULES: tuple[Rule, ...] = (
    Rule(
        "pod-security-restricted",
        "high",
        "Every pod template (objects, custom resources, chart values) meets Pod Security restricted.",
        pod_security,
    ),
    Rule(
        "pipelines-runnable",
        "high",
        "Every scheduled job, Spark job and workflow runs as a service account that exists, "
        "and every CronWorkflow's template exists.",
        pipelines_runnable,
    ),
    Rule(
        "hub-auth",
        "high",
        "JupyterHub signs users in through an identity provider, never the dummy authenticator, "
        "and never holds a client secret in its values.",
        hub_auth,
    ),
    Rule(
        "s3-public-access-block",
        "high",
        "Every bucket has all four public access blocks on.",
        s3_public_access_block,
    ),
    Rule(
        "s3-encryption", "high", "Every bucket has default server-side encryption.", s3_encryption
    ),
    Rule("s3-versioning", "medium", "Every bucket has versioning enabled.", s3_versioning),
    Rule("s3-tls-only", "high", "Every bucket policy denies requests without TLS.", s3_tls_only),
    Rule(
        "eks-private-endpoint",
        "high",
        "EKS API endpoint private; a public one only for listed CIDRs.",
        eks_private_endpoint,
    ),
    Rule(
        "eks-secrets-encryption",
        "high",
        "EKS encrypts Kubernetes secrets with a KMS key.",
        eks_secrets_encryption,
    ),
    Rule(
        "eks-audit-logs", "medium", "EKS sends api, audit and authenticator logs.", eks_audit_logs
    ),
    Rule("ecr-scan-on-push", "medium", "ECR repositories scan images on push.", ecr_scan_on_push),
    Rule(
        "ecr-immutable-tags", "medium", "ECR repositories have immutable tags.", ecr_immutable_tags
    ),
    Rule(
        "iam-no-wildcard-admin",
        "critical",
        "No IAM policy allows * actions on * resources.",
        iam_no_wildcard_admin,
    ),
    Rule(
        "iam-irsa-trust",
        "high",
        "IRSA trust policies name exactly one service account and the STS audience.",
        iam_irsa_trust,
    ),
    Rule(
        "iam-parliament",
        "medium",
        "IAM policy documents pass the parliament linter.",
        iam_parliament,
    ),
)


def run_rules(graph: ResourceGraph, rules: Iterable[Rule] = RULES) -> list[Finding]:
    findings = [
        Finding(
            rule.id,
            hit.severity or rule.severity,
            hit.resource.urn,
            hit.resource.name,
            hit.resource.type,
            hit.path,
            hit.message,
        )
        for rule in rules
        for hit in rule.check(graph)
    ]
    return sorted(set(findings), key=lambda f: (f.rule, f.urn, f.path, f.message))


def rule(rule_id: str) -> Rule:
    return next(r for r in RULES if r.id == rule_id)


# --- usable: what a day-one user needs on target aws ------------------------------------

_TIER = "dsenv.io/tier"
_NVIDIA = "nvidia.com/gpu"


def _cpu_millis(value: Any) -> int:
    from dsenv.profile.types import parse_millicpu

    if value is None:
        return 0
    if isinstance(value, int | float):
        return round(float(value) * 1000)
    return parse_millicpu(str(value))


def _bytes(value: Any) -> int:
    from dsenv.profile.types import parse_bytes

    if value is None:
        return 0
    if isinstance(value, int | float):
        return int(value)
    return parse_bytes(str(value))


def _addon_config(graph: ResourceGraph, addon: str) -> dict[str, Any] | None:
    """The configuration values of an EKS add-on (parsed), {} without any, None if absent."""
    for r in graph.of_type("aws:eks/addon:Addon"):
        if r.inputs.get("addonName") == addon:
            raw = r.inputs.get("configurationValues")
            return json.loads(raw) if isinstance(raw, str) and raw else {}
    return None


def _releases(graph: ResourceGraph, chart: str) -> list[Resource]:
    return [r for r in graph.of_type("kubernetes:helm.sh/v3:Release") if chart_name(r) == chart]


def _plugin_tiers(graph: ResourceGraph) -> set[str]:
    """The tiers whose nodes NVIDIA's device plugin runs on (its node affinity by tier)."""
    tiers: set[str] = set()
    for r in _releases(graph, "nvidia-device-plugin"):
        terms = _dig(
            r.inputs.get("values"),
            "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution",
        )
        for term in _as_list((terms or {}).get("nodeSelectorTerms")):
            for expr in _as_list(term.get("matchExpressions")):
                if expr.get("key") == _TIER and expr.get("operator") == "In":
                    tiers |= set(expr.get("values") or [])
    return tiers


def _node_daemons(graph: ResourceGraph, gpu_tier: bool) -> list[tuple[str, int, int]]:
    """(name, cpu millis, memory bytes) of each DaemonSet pod the graph runs on a node: the
    requests the program writes (add-on configuration, chart values), and for add-ons that do
    not let them be set, their published defaults (spec/fit.py)."""
    from dsenv.spec import fit

    out: list[tuple[str, int, int]] = []
    for daemon in (fit.VPC_CNI, fit.KUBE_PROXY):
        config = _addon_config(graph, daemon.name)
        if config is None:
            continue
        requests = _dig(config, "resources.requests") or {}
        out.append((daemon.name, _cpu_millis(requests.get("cpu")), _bytes(requests.get("memory"))))
    for daemon, addon in (
        (fit.EBS_CSI_NODE, "aws-ebs-csi-driver"),
        (fit.POD_IDENTITY_AGENT, "eks-pod-identity-agent"),
    ):
        if _addon_config(graph, addon) is not None:
            out.append((daemon.name, daemon.cpu_millis, daemon.memory_mib * 2**20))
    if gpu_tier:
        for r in _releases(graph, "nvidia-device-plugin"):
            requests = _dig(r.inputs.get("values"), "resources.requests") or {}
            out.append(
                (
                    "nvidia-device-plugin",
                    _cpu_millis(requests.get("cpu")),
                    _bytes(requests.get("memory")),
                )
            )
    return out


def _containers_requests(containers: Any) -> tuple[int, int, int]:
    cpu = memory = gpus = 0
    for c in _as_list(containers):
        requests = _dig(c, "resources.requests") or _dig(c, "resources.limits") or {}
        cpu += _cpu_millis(requests.get("cpu"))
        memory += _bytes(requests.get("memory"))
        gpus += int(str(requests.get(_NVIDIA) or 0))
    return cpu, memory, gpus


def _pod_requests(graph: ResourceGraph) -> Iterator[tuple[Resource, str, str, int, int, int]]:
    """(resource, path, tier, cpu millis, memory bytes, GPUs) of every pod template the graph
    places on a dsenv tier: the hub's profiles, core workload templates, KServe predictors and
    CI runner scale sets."""
    for r in graph:
        if r.type.startswith("kubernetes:helm.sh/"):
            values = r.inputs.get("values") if isinstance(r.inputs.get("values"), Mapping) else {}
            for i, profile in enumerate(_as_list(_dig(values, "singleuser.profileList"))):
                o = profile.get("kubespawner_override") or {}
                tier = (o.get("node_selector") or {}).get(_TIER)
                if tier:
                    gpus = int(str((o.get("extra_resource_guarantees") or {}).get(_NVIDIA) or 0))
                    yield (
                        r,
                        f"values.singleuser.profileList[{i}]",
                        tier,
                        _cpu_millis(o.get("cpu_guarantee")),
                        _bytes(o.get("mem_guarantee")),
                        gpus,
                    )
            spec = _dig(values, "template.spec")
            if isinstance(spec, Mapping):
                tier = (spec.get("nodeSelector") or {}).get(_TIER)
                if tier:
                    yield (
                        r,
                        "values.template.spec",
                        tier,
                        *_containers_requests(spec.get("containers")),
                    )
            continue
        if not _is_kubernetes_object(r):
            continue
        spec = r.inputs.get("spec") or {}
        kind = r.inputs.get("kind")
        candidates: list[tuple[str, Any]] = []
        if kind == "InferenceService":
            candidates.append(("spec.predictor", spec.get("predictor")))
        else:
            candidates.append(("spec.template.spec", _dig(spec, "template.spec")))
            candidates.append(("spec.template.spec", _dig(spec, "template.spec.template.spec")))
        for path, pod in candidates:
            if not isinstance(pod, Mapping):
                continue
            tier = (pod.get("nodeSelector") or {}).get(_TIER)
            if not tier:
                continue
            containers = list(_as_list(pod.get("containers")))
            if kind == "InferenceService":
                containers += [
                    v for k, v in pod.items() if isinstance(v, Mapping) and "resources" in v
                ]
            yield (r, path, tier, *_containers_requests(containers))


def usable_fit(graph: ResourceGraph) -> Iterator[Hit]:
    """Every pod template placed on a tier fits one node of each of the tier's instance
    types: the catalog's capacity less the EKS reservations (spec/fit.py) and the requests of
    the DaemonSets the graph runs there."""
    from dsenv.spec import fit

    nodes: dict[str, list[tuple[str, int, int, int]]] = {}
    for group in graph.of_type("aws:eks/nodeGroup:NodeGroup"):
        tier = (group.inputs.get("labels") or {}).get(_TIER)
        gpu = str(group.inputs.get("amiType", "")).endswith("_NVIDIA")
        daemons = _node_daemons(graph, gpu)
        for itype in _as_list(group.inputs.get("instanceTypes")):
            instance = fit.lookup(str(itype))
            if instance is None or tier is None:
                yield Hit(group, "instanceTypes", f"instance type {itype} is not in the catalog")
                continue
            node = fit.allocatable(instance, daemons=())
            nodes.setdefault(tier, []).append(
                (
                    instance.name,
                    node.cpu_millis - sum(d[1] for d in daemons),
                    node.memory_mib * 2**20 - sum(d[2] for d in daemons),
                    instance.gpus,
                )
            )
    if not nodes:
        return
    for r, path, tier, cpu, memory, gpus in _pod_requests(graph):
        for name, free_cpu, free_memory, node_gpus in nodes.get(tier, []):
            if cpu > free_cpu or memory > free_memory or gpus > node_gpus:
                yield Hit(
                    r,
                    path,
                    f"requests cpu {cpu}m, memory {memory // 2**20}Mi, {gpus} GPU do not fit one "
                    f"{name} node of tier {tier} (it offers cpu {free_cpu}m, memory "
                    f"{free_memory // 2**20}Mi, {node_gpus} GPU after EKS and its DaemonSets)",
                )


def usable_gpu_plugin(graph: ResourceGraph) -> Iterator[Hit]:
    """Every GPU node group runs NVIDIA's device plugin, or no pod can request a GPU."""
    served = _plugin_tiers(graph)
    for group in graph.of_type("aws:eks/nodeGroup:NodeGroup"):
        if not str(group.inputs.get("amiType", "")).endswith("_NVIDIA"):
            continue
        tier = (group.inputs.get("labels") or {}).get(_TIER)
        if tier not in served:
            yield Hit(
                group,
                "amiType",
                f"GPU tier {tier} has no NVIDIA device plugin on its nodes: nothing advertises "
                f"{_NVIDIA}, so no pod of the tier can start",
            )


def _hub_host(release: Resource) -> str | None:
    config = _dig(release.inputs.get("values"), "hub.config") or {}
    for section in config.values():
        url = section.get("oauth_callback_url") if isinstance(section, Mapping) else None
        if isinstance(url, str) and url.startswith("https://"):
            return url.removeprefix("https://").split("/", 1)[0]
    return None


def usable_hub_route(graph: ResourceGraph) -> Iterator[Hit]:
    """On target aws, a hub host someone can open: an Ingress for the host of a class a
    controller in the graph serves, a certificate for the host, and a DNS controller for it."""
    if not graph.of_type("aws:eks/cluster:Cluster"):
        return
    for hub in _releases(graph, "jupyterhub"):
        host = _hub_host(hub)
        if host is None:
            continue
        ingresses = [
            r
            for r in graph.of_type("kubernetes:networking.k8s.io/v1:Ingress")
            if any(rule.get("host") == host for rule in _as_list(_dig(r.inputs, "spec.rules")))
        ]
        missing = []
        if not ingresses:
            missing.append(f"no Ingress routes {host}")
        elif not _releases(graph, "aws-load-balancer-controller") or any(
            _dig(r.inputs, "spec.ingressClassName") != "alb" for r in ingresses
        ):
            missing.append(f"no load balancer controller serves the Ingress of {host}")
        if not any(
            r.inputs.get("domainName") == host
            for r in graph.of_type("aws:acm/certificate:Certificate")
        ):
            missing.append(f"no certificate for {host}")
        dns = _releases(graph, "external-dns")
        if not any(
            any(
                host == z or host.endswith(f".{z}")
                for z in _as_list(_dig(r.inputs, "values.domainFilters"))
            )
            for r in dns
        ):
            missing.append(f"nothing keeps a DNS record for {host}")
        if missing:
            yield Hit(
                hub,
                "values.hub.config",
                f"the hub's sign-in expects https://{host}, but " + "; ".join(missing),
            )


def usable_netpol_enforced(graph: ResourceGraph) -> Iterator[Hit]:
    """On EKS, NetworkPolicies are enforced only by vpc-cni's network policy agent."""
    policies = graph.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    hubs_relying = [
        r
        for r in _releases(graph, "jupyterhub")
        if _dig(r.inputs.get("values"), "singleuser.cloudMetadata.blockWithIptables") is False
    ]
    if not graph.of_type("aws:eks/cluster:Cluster") or not (policies or hubs_relying):
        return
    config = _addon_config(graph, "vpc-cni")
    if config is not None and str(config.get("enableNetworkPolicy", "")).lower() == "true":
        return
    where = next(iter(graph.of_type("aws:eks/addon:Addon")), None) or policies[0]
    reason = (
        "; the hub turns off its own metadata-server block and relies on them"
        if hubs_relying
        else ""
    )
    yield Hit(
        where,
        "configurationValues",
        f"{len(policies)} NetworkPolicies are not enforced: vpc-cni runs without "
        f"enableNetworkPolicy{reason}",
    )


def usable_cluster_access(graph: ResourceGraph) -> Iterator[Hit]:
    """Someone besides the identity that created the cluster can use its API."""
    for cluster in _clusters(graph):
        if not graph.of_type("aws:eks/accessEntry:AccessEntry"):
            yield Hit(
                cluster,
                "accessConfig",
                "no EKS access entry: nobody but the cluster's creator can use the cluster API "
                "(declare target.admins or owner_arns)",
            )


USABLE_RULES: tuple[Rule, ...] = (
    Rule(
        "usable-fit",
        "high",
        "Every pod template placed on a tier fits one node of the tier.",
        usable_fit,
    ),
    Rule(
        "usable-gpu-plugin",
        "high",
        "GPU node groups run NVIDIA's device plugin.",
        usable_gpu_plugin,
    ),
    Rule(
        "usable-hub-route",
        "high",
        "A hub host is routed: Ingress, load balancer controller, certificate, DNS.",
        usable_hub_route,
    ),
    Rule(
        "usable-netpol-enforced",
        "high",
        "NetworkPolicies the environment relies on are enforced (vpc-cni network policy).",
        usable_netpol_enforced,
    ),
    Rule(
        "usable-cluster-access",
        "medium",
        "Someone besides the cluster's creator can reach the cluster API.",
        usable_cluster_access,
    ),
)
