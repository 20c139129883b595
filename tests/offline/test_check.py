"""`dsenv check`: every security rule passes a compliant resource and catches a broken copy
of it; the CrossGuard pack reports the same; schemas catch what the API server would reject."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from offline_kit import EXAMPLES, PROFILES, example, graph, res

from dsenv.offline.check import Schemas, check, check_schemas, load_schemas
from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.offline.rules import RULES, run_rules
from dsenv.profile.load import load_profile
from dsenv.spec.expand import expand_profile
from dsenv.stacks.components.podsecurity import restricted_container_context, restricted_pod_context
from dsenv.stacks.components.workspaces import hub_values

BUCKET = "aws:s3/bucket:Bucket"
ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@functools.cache
def _fraud_hub_values() -> dict[str, Any]:
    """The hub values dsenv writes for the fraud example (GitHub sign-in)."""
    spec = expand_profile(load_profile(PROFILES / "fraud.yaml"))
    return hub_values(spec.workspaces, image="app:1")


def good() -> dict[str, Resource]:
    """One compliant resource (or companion) for every rule."""
    b = res(BUCKET, "data", {"bucketPrefix": "acme-fraud-data-"}, capability="storage")
    deps = (b.urn,)
    pod = {
        "securityContext": restricted_pod_context(run_as_user=1000),
        "containers": [
            {"name": "app", "image": "app:1", "securityContext": restricted_container_context()}
        ],
    }
    return {
        "bucket": b,
        "pab": res(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "data-pab",
            {
                "bucket": "acme-fraud-data-1",
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            deps=deps,
        ),
        "sse": res(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "data-sse",
            {
                "bucket": "acme-fraud-data-1",
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}],
            },
            deps=deps,
        ),
        "versioning": res(
            "aws:s3/bucketVersioning:BucketVersioning",
            "data-versioning",
            {"bucket": "acme-fraud-data-1", "versioningConfiguration": {"status": "Enabled"}},
            deps=deps,
        ),
        "policy": res(
            "aws:s3/bucketPolicy:BucketPolicy",
            "data-policy",
            {
                "bucket": "acme-fraud-data-1",
                "policy": _doc(
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [
                            "arn:aws:s3:::acme-fraud-data-1",
                            "arn:aws:s3:::acme-fraud-data-1/*",
                        ],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ),
            },
            deps=deps,
        ),
        "eks": res(
            "aws:eks/cluster:Cluster",
            "cluster",
            {
                "vpcConfig": {
                    "endpointPrivateAccess": True,
                    "endpointPublicAccess": False,
                    "subnetIds": ["subnet-1", "subnet-2"],
                },
                "encryptionConfig": {
                    "resources": ["secrets"],
                    "provider": {"keyArn": "arn:aws:kms:eu-west-1:123456789012:key/k"},
                },
                "enabledClusterLogTypes": ["api", "audit", "authenticator"],
            },
        ),
        "ecr": res(
            "aws:ecr/repository:Repository",
            "registry",
            {
                "name": "acme/fraud-workspace",
                "imageScanningConfiguration": {"scanOnPush": True},
                "imageTagMutability": "IMMUTABLE",
            },
        ),
        "irsa": res(
            "aws:iam/role:Role",
            "spark-irsa",
            {
                "assumeRolePolicy": _doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": ARN},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {
                                f"{ISSUER}:sub": "system:serviceaccount:fraud:spark",
                                f"{ISSUER}:aud": "sts.amazonaws.com",
                            }
                        },
                    }
                )
            },
        ),
        "role-policy": res(
            "aws:iam/rolePolicy:RolePolicy",
            "spark-irsa",
            {
                "policy": _doc(
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject"],
                        "Resource": "arn:aws:s3:::acme-fraud-data-1/*",
                    }
                )
            },
        ),
        "deployment": res(
            "kubernetes:apps/v1:Deployment",
            "app",
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "app", "namespace": "fraud"},
                "spec": {
                    "selector": {"matchLabels": {"app": "a"}},
                    "template": {"metadata": {"labels": {"app": "a"}}, "spec": pod},
                },
            },
        ),
        "cronjob": res(
            "kubernetes:batch/v1:CronJob",
            "retrain",
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {"name": "retrain", "namespace": "fraud"},
                "spec": {
                    "schedule": "0 2 * * *",
                    "jobTemplate": {
                        "spec": {
                            "template": {
                                "spec": {
                                    **pod,
                                    "serviceAccountName": "pipeline-runner",
                                    "restartPolicy": "Never",
                                }
                            }
                        }
                    },
                },
            },
        ),
        "runner-account": res(
            "kubernetes:core/v1:ServiceAccount",
            "pipeline-runner",
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "pipeline-runner", "namespace": "fraud"},
            },
        ),
        "release": res(
            "kubernetes:helm.sh/v3:Release",
            "kafka",
            {
                "chart": "strimzi-kafka-operator",
                "values": {
                    "podSecurityContext": restricted_pod_context(),
                    "securityContext": restricted_container_context(),
                },
            },
        ),
        "hub": res(
            "kubernetes:helm.sh/v3:Release",
            "workspaces",
            {"chart": "jupyterhub", "values": _fraud_hub_values()},
        ),
    }


def _set(key: str, path: str, value: Any) -> Callable[[dict[str, Resource]], None]:
    """A breakage: set inputs[path] of resource `key` (JSON documents edited in place)."""

    def apply(rs: dict[str, Resource]) -> None:
        inputs = copy.deepcopy(rs[key].inputs)
        parts = path.split(".")
        target = inputs
        for p in parts[:-1]:
            target = target[int(p)] if isinstance(target, list) else target[p]
        target[parts[-1]] = value
        rs[key] = Resource(**{**rs[key].__dict__, "inputs": inputs})

    return apply


def _edit_doc(
    key: str, field: str, edit: Callable[[dict[str, Any]], None]
) -> Callable[[dict[str, Resource]], None]:
    def apply(rs: dict[str, Resource]) -> None:
        doc = json.loads(rs[key].inputs[field])
        edit(doc["Statement"][0])
        _set(key, field, json.dumps(doc))(rs)

    return apply


def _drop(key: str) -> Callable[[dict[str, Resource]], None]:
    return lambda rs: rs.pop(key) and None


#: rule id -> (breakage, the path the finding must name)
BROKEN: dict[str, tuple[Callable[[dict[str, Resource]], None], str]] = {
    "pod-security-restricted": (
        _set(
            "deployment",
            "spec.template.spec.containers.0.securityContext.allowPrivilegeEscalation",
            True,
        ),
        "spec",
    ),
    "s3-public-access-block": (
        _set("pab", "restrictPublicBuckets", False),
        "restrictPublicBuckets",
    ),
    "s3-encryption": (_drop("sse"), "serverSideEncryptionConfiguration"),
    "s3-versioning": (
        _set("versioning", "versioningConfiguration.status", "Suspended"),
        "versioning",
    ),
    "s3-tls-only": (_edit_doc("policy", "policy", lambda s: s.update(Effect="Allow")), "policy"),
    "eks-private-endpoint": (
        _set("eks", "vpcConfig.endpointPublicAccess", True),
        "vpcConfig.publicAccessCidrs",
    ),
    "eks-secrets-encryption": (_set("eks", "encryptionConfig.resources", []), "encryptionConfig"),
    "eks-audit-logs": (_set("eks", "enabledClusterLogTypes", ["api"]), "enabledClusterLogTypes"),
    "ecr-scan-on-push": (
        _set("ecr", "imageScanningConfiguration.scanOnPush", False),
        "imageScanningConfiguration.scanOnPush",
    ),
    "ecr-immutable-tags": (_set("ecr", "imageTagMutability", "MUTABLE"), "imageTagMutability"),
    "iam-no-wildcard-admin": (
        _edit_doc("role-policy", "policy", lambda s: s.update(Action="*", Resource="*")),
        "policy.Statement[0]",
    ),
    "iam-irsa-trust": (
        _edit_doc(
            "irsa",
            "assumeRolePolicy",
            lambda s: s["Condition"]["StringEquals"].update(
                {f"{ISSUER}:sub": "system:serviceaccount:fraud:*"}
            ),
        ),
        "assumeRolePolicy.Statement[0].Condition.StringEquals",
    ),
    "hub-auth": (
        _set("hub", "values.hub.config.JupyterHub.authenticator_class", "dummy"),
        "values.hub.config.JupyterHub.authenticator_class",
    ),
    "iam-parliament": (
        _edit_doc("role-policy", "policy", lambda s: s.update(Action="s3:GetObjekt")),
        "policy",
    ),
    "pipelines-runnable": (
        _set("cronjob", "spec.jobTemplate.spec.template.spec.serviceAccountName", "nobody"),
        "spec.jobTemplate.spec.template.spec.serviceAccountName",
    ),
}


def _graph(rs: dict[str, Resource]) -> ResourceGraph:
    return graph(*rs.values())


def test_every_rule_has_a_broken_case() -> None:
    assert set(BROKEN) == {r.id for r in RULES}


def test_the_compliant_resources_pass_every_rule() -> None:
    assert run_rules(_graph(good())) == []


@pytest.mark.parametrize("rule_id", sorted(BROKEN))
def test_each_rule_catches_its_broken_copy(rule_id: str) -> None:
    rs = good()
    breakage, path = BROKEN[rule_id]
    breakage(rs)
    findings = run_rules(_graph(rs))
    assert {f.rule for f in findings} == {rule_id}, findings
    assert path in {f.path for f in findings}


def test_pod_security_reaches_into_chart_values() -> None:
    rs = good()
    _set("release", "values.securityContext", {})(rs)
    findings = run_rules(_graph(rs))
    assert [(f.rule, f.name, f.path) for f in findings] == [
        ("pod-security-restricted", "kafka", "values")
    ] * len(findings)
    assert findings


def test_a_bucket_without_any_companion_fails_all_four_bucket_rules() -> None:
    rules = {f.rule for f in run_rules(graph(res(BUCKET, "bare", {"bucketPrefix": "x-"})))}
    assert rules == {"s3-public-access-block", "s3-encryption", "s3-versioning", "s3-tls-only"}


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_profiles_have_no_high_or_critical_security_findings(name: str) -> None:
    findings = run_rules(example(name).graph)
    assert [f for f in findings if f.severity in ("critical", "high")] == []


def test_hub_auth_treats_the_charts_default_authenticator_as_dummy() -> None:
    rs = good()
    _set("hub", "values.hub.config.JupyterHub", {})(rs)
    findings = run_rules(_graph(rs))
    assert [(f.rule, f.severity) for f in findings] == [("hub-auth", "high")]
    assert "dummy" in findings[0].message


def test_hub_auth_reports_a_locked_hub_as_low() -> None:
    rs = good()
    _set("hub", "values.hub.config.JupyterHub.authenticator_class", "null")(rs)
    findings = run_rules(_graph(rs))
    assert [(f.rule, f.severity) for f in findings] == [("hub-auth", "low")]
    assert "locked" in findings[0].message


def test_hub_auth_refuses_a_client_secret_inline_in_the_values() -> None:
    rs = good()
    _set("hub", "values.hub.config.GitHubOAuthenticator.client_secret", "s3cr3t")(rs)
    findings = run_rules(_graph(rs))
    assert [(f.rule, f.path) for f in findings] == [
        ("hub-auth", "values.hub.config.GitHubOAuthenticator.client_secret")
    ]


# --- the CrossGuard pack -----------------------------------------------------------------


def _policy_resources(g: ResourceGraph) -> list[Any]:
    from pulumi_policy import PolicyResource, PolicyResourceOptions

    made: dict[str, Any] = {}
    for r in g:
        opts = PolicyResourceOptions(False, [], False, [], None, [], None)  # type: ignore[arg-type]
        made[r.urn] = PolicyResource(r.type, r.inputs, r.urn, r.name, opts, None, None, [], {})
    for r in g:
        made[r.urn].dependencies = [made[d] for d in r.dependencies if d in made]
    return list(made.values())


def _violations(g: ResourceGraph) -> dict[str, list[str]]:
    from pulumi_policy import StackValidationArgs

    from dsenv.policy.pack import policies

    out: dict[str, list[str]] = {}
    for policy in policies():
        messages: list[str] = []
        policy.validate(
            StackValidationArgs(_policy_resources(g)),
            lambda m, urn=None, acc=messages: acc.append(m),
        )  # type: ignore[misc]
        out[policy.name] = messages
    return out


def test_policy_pack_passes_compliant_resources() -> None:
    pytest.importorskip("pulumi_policy", reason="pulumi-policy is not installed")
    assert all(not v for v in _violations(_graph(good())).values())


@pytest.mark.parametrize("rule_id", sorted(BROKEN))
def test_policy_pack_reports_the_same_rule_on_the_broken_copy(rule_id: str) -> None:
    pytest.importorskip("pulumi_policy", reason="pulumi-policy is not installed")
    rs = good()
    BROKEN[rule_id][0](rs)
    failing = {name for name, messages in _violations(_graph(rs)).items() if messages}
    assert failing == {f"dsenv-{rule_id}"}


# --- schemas -----------------------------------------------------------------------------


def test_core_objects_are_validated_strictly_for_the_cluster_version() -> None:
    cm = res(
        "kubernetes:core/v1:ConfigMap",
        "cm",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}},
    )
    assert check_schemas(graph(cm), Schemas(), "1.33").findings == []
    typo = res("kubernetes:core/v1:ConfigMap", "cm", {**cm.inputs, "datta": {"a": "b"}})
    report = check_schemas(graph(typo), Schemas(), "1.33")
    assert [f.rule for f in report.findings] == ["schema-kubernetes"]
    assert "datta" in report.findings[0].message


def test_custom_resources_are_checked_against_crds_in_kubectl_list_output(
    tmp_path: Path, upstream: Path
) -> None:
    crd = yaml.safe_load((upstream / "strimzi" / "043-Crd-kafkatopic.yaml").read_text())
    (tmp_path / "crds.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [crd]})
    )
    schemas = load_schemas(tmp_path)
    topic = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": "t", "labels": {"strimzi.io/cluster": "k"}},
        "spec": {"partitions": 3, "replicas": 3},
    }
    ok = res("kubernetes:kafka.strimzi.io/v1:KafkaTopic", "t", topic)
    bad = res(
        "kubernetes:kafka.strimzi.io/v1:KafkaTopic",
        "t2",
        {**topic, "spec": {"partitions": "three", "replikas": 3}},
    )
    report = check_schemas(graph(ok, bad), schemas, "1.33")
    assert report.validated["crd"] == 2
    assert {(f.name, f.path) for f in report.findings} == {
        ("t2", "spec"),
        ("t2", "spec.partitions"),
    }


def test_chart_values_are_checked_against_the_values_schema_over_chart_defaults(
    upstream: Path,
) -> None:
    schemas = load_schemas(upstream / "zero-to-jupyterhub")
    assert "jupyterhub" in schemas.values
    ok = res(
        "kubernetes:helm.sh/v3:Release",
        "hub",
        {"chart": "jupyterhub", "values": {"singleuser": {"storage": {"capacity": "10Gi"}}}},
    )
    bad = res(
        "kubernetes:helm.sh/v3:Release",
        "hub2",
        {"chart": "jupyterhub", "values": {"singleuser": {"storrage": {}}}},
    )
    report = check_schemas(graph(ok, bad), schemas, "1.33")
    assert [f.name for f in report.findings] == ["hub2"]
    assert report.findings[0].path.startswith("values.singleuser")


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_profiles_pass_every_schema_found_upstream(name: str, upstream: Path) -> None:
    env = example(name)
    assert env.spec is not None
    report = check(
        env.graph, kubernetes_version=env.spec.kubernetes_version, schemas=load_schemas(upstream)
    )
    assert [f for f in report.findings if f.rule.startswith("schema-")] == []
    assert report.validated["kubernetes-core"] > 0


def test_the_kubernetes_versions_dsenv_accepts_are_the_ones_kubernetes_validate_ships() -> None:
    from kubernetes_validate.utils import all_versions

    from dsenv.spec.versions import kubernetes_versions

    shipped = {".".join(v.split(".")[:2]) for v in all_versions()}
    assert kubernetes_versions() == tuple(
        sorted(shipped, key=lambda v: tuple(map(int, v.split("."))))
    )
    assert "1.34" in shipped


def test_check_refuses_a_version_the_checkers_do_not_know() -> None:
    from dsenv.errors import UsageError
    from dsenv.offline.check import check_kubernetes_version

    assert check_kubernetes_version("1.34") == "1.34"
    for bad in ("9.9", "1.99", "latest", "1.34.0"):
        with pytest.raises(UsageError, match="--kubernetes-version"):
            check_kubernetes_version(bad)


def test_a_missing_checker_is_exit_3_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dsenv.errors import ExitCode, OperationalError
    from dsenv.offline import check as checks

    checks.require_checkers()  # all installed: no error
    monkeypatch.setitem(checks.CHECKERS, "dsenv_no_such_checker", "dsenv-no-such-checker>=1")
    with pytest.raises(OperationalError) as caught:
        checks.require_checkers()
    assert caught.value.exit_code == ExitCode.OPERATIONAL
    assert "dsenv-no-such-checker" in caught.value.message
    assert "pip install 'dsenv-no-such-checker>=1'" in (caught.value.hint or "")
