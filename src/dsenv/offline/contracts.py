"""Usability contracts: what a person signed in to the team's hub can do from a notebook,
proven on the resource graph (what is deployed), never on the profile.

For every user of every group (every user, when the team has no groups), one path per:

- **workspace** on each tier the user's groups allow: the hub offers the tier to the group,
  the servers' identity exists (on aws: its IAM role trusts exactly that service account),
  the image is set, and the server's requests are at most the tier's size;
- **spark**: operator: the workspaces' identity may create, watch and delete
  SparkApplications and read driver logs (a RoleBinding to a Role that grants it), the
  template is mounted in the server, it runs a Spark image (not the workspace image) as a
  driver identity that may create its executors, the operator watches the namespace, and
  driver and executor requests (heap + Spark's overhead) fit their tiers; EMR: the
  workspaces' role may start job runs and pass the job role (and only that one), and on EMR
  on EKS the pod templates put the job pods on their tiers;
- **kafka**, each declared topic (Strimzi): the network path from the server to the brokers'
  listener port, the workspaces' KafkaUser password, bootstrap address and the cluster CA in
  the server, and the user's ACLs to read and write the topic; MSK: the network path to the
  IAM port and the role's right to connect, read and write;
- **serving**, each model: the InferenceService exists and the network path from the server
  to its predictor port is open.

A path is a list of links; a failed one names the first missing link. Sizes are checked
against the tier's own size (`dsenv.io/compute-tiers` on the team namespace): the tier's size is
what one pod may request; whether that size fits the tier's nodes is the node-fit rules'
business, not this module's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.offline.rules import Finding, _as_list, _statements, chart_name
from dsenv.profile.types import parse_bytes, parse_millicpu
from dsenv.spec.base import TIERS_ANNOTATION

#: The labels KubeSpawner gives a user server (Zero to JupyterHub `singleuser` pods).
WORKSPACE_LABELS = {"app": "jupyterhub", "component": "singleuser-server"}
#: RawDeployment predictors listen on the model server's port (KServe's default 8080).
PREDICTOR_PORT = 8080
MSK_IAM_PORT = 9098
ANY_USER = "(any signed-in user)"


@dataclass(frozen=True)
class Link:
    what: str  # group, identity, rbac, template, image, operator, fit, network, credentials, acl
    ok: bool
    detail: str


@dataclass(frozen=True)
class Path:
    contract: str  # workspace, spark, kafka, serving
    user: str
    target: str  # a tier, the Spark engine, a topic, a model
    links: tuple[Link, ...]

    @property
    def ok(self) -> bool:
        return all(link.ok for link in self.links)

    @property
    def missing(self) -> Link | None:
        return next((link for link in self.links if not link.ok), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "user": self.user,
            "target": self.target,
            "ok": self.ok,
            "links": [link.__dict__ for link in self.links],
        }


# --- the deployment, as the graph holds it ----------------------------------------------


@dataclass
class _Team:
    graph: ResourceGraph
    hub: Resource
    values: Mapping[str, Any]
    namespace: str
    tiers: dict[str, dict[str, Any]]

    @property
    def singleuser(self) -> Mapping[str, Any]:
        return self.values.get("singleuser") or {}

    def kube(
        self, kind: str, name: str | None = None, namespace: str | None = None
    ) -> list[Resource]:
        out = []
        for r in self.graph:
            if not (r.custom and r.type.startswith("kubernetes:") and r.inputs.get("kind") == kind):
                continue
            meta = r.inputs.get("metadata") or {}
            if name is not None and meta.get("name") != name:
                continue
            if namespace is not None and meta.get("namespace") != namespace:
                continue
            out.append(r)
        return out

    def releases(self, chart: str) -> list[Resource]:
        return [
            r
            for r in self.graph
            if r.type.startswith("kubernetes:helm.sh/") and chart_name(r) == chart
        ]


def _team(graph: ResourceGraph) -> _Team | None:
    hubs = [
        r
        for r in graph
        if r.type.startswith("kubernetes:helm.sh/") and chart_name(r) == "jupyterhub"
    ]
    if not hubs or not isinstance(hubs[0].inputs.get("values"), Mapping):
        return None
    hub = hubs[0]
    namespace = str(hub.inputs.get("namespace") or "")
    tiers: dict[str, dict[str, Any]] = {}
    for r in graph:
        meta = r.inputs.get("metadata") or {}
        if r.inputs.get("kind") == "Namespace" and meta.get("name") == namespace:
            raw = (meta.get("annotations") or {}).get(TIERS_ANNOTATION)
            if isinstance(raw, str):
                tiers = json.loads(raw)
    return _Team(graph, hub, hub.inputs["values"], namespace, tiers)


def users(graph: ResourceGraph) -> list[str]:
    """Every member of a group of the hub; without groups, any user who signs in."""
    team = _team(graph)
    if team is None:
        return []
    groups = _groups(team)
    members = sorted({u for us in groups.values() for u in us})
    return members if groups else [ANY_USER]


def _groups(team: _Team) -> dict[str, list[str]]:
    load = ((team.values.get("hub") or {}).get("config") or {}).get("JupyterHub", {})
    return {
        g: list((v or {}).get("users") or []) for g, v in (load.get("load_groups") or {}).items()
    }


def _allowed_tiers(team: _Team, user: str) -> dict[str, Link]:
    """tier -> the group link, for every tier in the hub's profile list."""
    access = ((team.values.get("custom") or {}).get("dsenv") or {}).get("profileGroups") or {}
    mine = {g for g, us in _groups(team).items() if user in us}
    out = {}
    for entry in team.singleuser.get("profileList") or []:
        tier = entry.get("slug")
        allowed = access.get(tier) or []
        if not allowed:
            out[tier] = Link("group", True, f"the hub offers tier {tier} to every user")
        elif mine & set(allowed):
            out[tier] = Link(
                "group",
                True,
                f"the hub offers tier {tier} to group {sorted(mine & set(allowed))[0]}",
            )
    return out


# --- sizes -------------------------------------------------------------------------------


def _mib(quantity: Any) -> int:
    """A Kubernetes or Spark memory quantity ("8192Mi", "5734m", 8589934592) in MiB."""
    text = str(quantity)
    if text.endswith("m") and text[:-1].isdigit():  # Spark's notation: mebibytes
        return int(text[:-1])
    if text.endswith("g") and text[:-1].isdigit():
        return int(text[:-1]) * 1024
    return parse_bytes(text) // 2**20


def _tier_of(team: _Team, node_selector: Mapping[str, Any] | None) -> list[str]:
    selector = dict(node_selector or {})
    return [t for t, size in team.tiers.items() if dict(size.get("nodeSelector") or {}) == selector]


def _fit(team: _Team, what: str, selector: Any, cpu_millis: int, memory_mib: int) -> Link:
    tiers = _tier_of(team, selector if isinstance(selector, Mapping) else {})
    if not tiers:
        return Link("fit", False, f"{what}: its nodeSelector {selector} is no tier's")
    for tier in tiers:
        size = team.tiers[tier]
        cap_cpu, cap_mem = parse_millicpu(size["cpu"]), _mib(size["memory"])
        if cpu_millis <= cap_cpu and memory_mib <= cap_mem:
            return Link(
                "fit",
                True,
                f"{what} requests {cpu_millis}m cpu, {memory_mib}Mi memory; tier {tier} is "
                f"{cap_cpu}m, {cap_mem}Mi",
            )
    tier = tiers[0]
    return Link(
        "fit",
        False,
        f"{what} requests {cpu_millis}m cpu, {memory_mib}Mi memory, more than tier {tier}'s "
        f"{team.tiers[tier]['cpu']}, {team.tiers[tier]['memory']}",
    )


# --- identity and RBAC -------------------------------------------------------------------


def _service_account(team: _Team, name: str, namespace: str) -> Link:
    accounts = team.kube("ServiceAccount", name, namespace)
    if not accounts:
        return Link("identity", False, f"no ServiceAccount {namespace}/{name}")
    role_arn = ((accounts[0].inputs.get("metadata") or {}).get("annotations") or {}).get(
        "eks.amazonaws.com/role-arn"
    )
    if role_arn is None:
        return Link("identity", True, f"ServiceAccount {namespace}/{name}")
    role = _role_by_arn(team.graph, str(role_arn))
    if role is None:
        return Link(
            "identity", False, f"{namespace}/{name} names IAM role {role_arn}, which is not created"
        )
    sub = f"system:serviceaccount:{namespace}:{name}"
    trusted = any(
        sub in _as_list(v)
        for s in _statements(role.inputs.get("assumeRolePolicy"))
        for k, v in ((s.get("Condition") or {}).get("StringEquals") or {}).items()
        if str(k).endswith(":sub")
    )
    if not trusted:
        return Link("identity", False, f"IAM role {role_arn} does not trust {sub}")
    return Link("identity", True, f"ServiceAccount {namespace}/{name}, IAM role {role_arn}")


def _role_by_arn(graph: ResourceGraph, arn: str) -> Resource | None:
    return next(
        (r for r in graph.of_type("aws:iam/role:Role") if r.outputs.get("arn") == arn), None
    )


def _role_grants(rules: Iterable[Any], group: str, resource: str, verbs: set[str]) -> bool:
    for rule in rules:
        if not isinstance(rule, Mapping):
            continue
        groups = rule.get("apiGroups") or []
        resources = rule.get("resources") or []
        granted = set(rule.get("verbs") or [])
        if (
            (group in groups or "*" in groups)
            and (resource in resources or "*" in resources)
            and ("*" in granted or verbs <= granted)
        ):
            return True
    return False


def _may(
    team: _Team, account: str, namespace: str, group: str, resource: str, verbs: set[str]
) -> Link:
    """Whether a RoleBinding in `namespace` gives the service account a Role granting `verbs`
    on `resource`."""
    for binding in team.kube("RoleBinding", namespace=namespace):
        subjects = binding.inputs.get("subjects") or []
        if not any(
            s.get("kind") == "ServiceAccount"
            and s.get("name") == account
            and s.get("namespace", namespace) == namespace
            for s in subjects
        ):
            continue
        ref = binding.inputs.get("roleRef") or {}
        if ref.get("kind") != "Role":
            continue
        for role in team.kube("Role", ref.get("name"), namespace):
            if _role_grants(role.inputs.get("rules") or [], group, resource, verbs):
                name = (binding.inputs.get("metadata") or {}).get("name")
                return Link(
                    "rbac",
                    True,
                    f"RoleBinding {namespace}/{name}: {','.join(sorted(verbs))} {resource}",
                )
    return Link(
        "rbac",
        False,
        f"no RoleBinding in {namespace} gives {account} {','.join(sorted(verbs))} on "
        f"{resource}{f' ({group})' if group else ''}",
    )


# --- network policy ----------------------------------------------------------------------


def _selects(selector: Any, labels: Mapping[str, str]) -> bool:
    if not isinstance(selector, Mapping):
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _peer(peer: Mapping[str, Any], policy_ns: str, ns: str, labels: Mapping[str, str]) -> bool:
    if "ipBlock" in peer:
        return False  # addresses, not pods: a pod-to-pod path is never proven by a CIDR
    ns_labels = {"kubernetes.io/metadata.name": ns}
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], ns_labels):
            return False
    elif ns != policy_ns:
        return False
    return "podSelector" not in peer or _selects(peer["podSelector"], labels)


def _port(ports: Any, port: int) -> bool:
    if not ports:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != "TCP":
            continue
        if "port" not in p:
            return True
        low = p["port"]
        high = p.get("endPort", low)
        if isinstance(low, int) and low <= port <= high:
            return True
    return False


def _direction(
    team: _Team,
    direction: str,
    pod: tuple[str, Mapping[str, str]],
    other: tuple[str, Mapping[str, str]],
    port: int,
) -> tuple[bool, str]:
    ns, labels = pod
    key, peers = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    isolating = []
    for policy in team.kube("NetworkPolicy", namespace=ns):
        spec = policy.inputs.get("spec") or {}
        types = spec.get("policyTypes") or (
            ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]
        )
        if direction in types and _selects(spec.get("podSelector") or {}, labels):
            isolating.append(policy)
            for rule in spec.get(key) or []:
                matches = not rule.get(peers) or any(
                    _peer(p, ns, other[0], other[1]) for p in rule.get(peers) or []
                )
                if matches and _port(rule.get("ports"), port):
                    name = (policy.inputs.get("metadata") or {}).get("name")
                    return True, f"NetworkPolicy {ns}/{name}"
    if not isolating:
        return True, f"no NetworkPolicy isolates {direction.lower()} in {ns}"
    return False, f"no NetworkPolicy in {ns} allows {direction.lower()} on port {port}"


def _network(team: _Team, what: str, dst: tuple[str, Mapping[str, str]], port: int) -> Link:
    src = (team.namespace, WORKSPACE_LABELS)
    out_ok, out = _direction(team, "Egress", src, dst, port)
    if not out_ok:
        return Link("network", False, f"workspace -> {what}:{port}: {out}")
    in_ok, inn = _direction(team, "Ingress", dst, src, port)
    if not in_ok:
        return Link("network", False, f"workspace -> {what}:{port}: {inn}")
    return Link("network", True, f"workspace -> {what}:{port} ({out}; {inn})")


# --- the contracts -----------------------------------------------------------------------


def _workspace(team: _Team, user: str, tier: str, group: Link) -> Path:
    su = team.singleuser
    entry = next(e for e in su.get("profileList") or [] if e.get("slug") == tier)
    override = entry.get("kubespawner_override") or {}
    image = su.get("image") or {}
    image_link = Link(
        "image",
        bool(image.get("name") and image.get("tag")),
        f"{image.get('name')}:{image.get('tag')}" if image.get("name") else "no singleuser.image",
    )
    fit = _fit(
        team,
        f"the {tier} server",
        override.get("node_selector"),
        round(float(override.get("cpu_guarantee") or 0) * 1000),
        int(override.get("mem_guarantee") or 0) // 2**20,
    )
    account = _service_account(team, str(su.get("serviceAccountName")), team.namespace)
    return Path("workspace", user, tier, (group, account, image_link, fit))


def _mounted(team: _Team, kind: str, source: str) -> str | None:
    """The mount path of a ConfigMap or Secret mounted in the user servers."""
    storage = team.singleuser.get("storage") or {}
    for name, volume in (storage.get("extraVolumes") or {}).items():
        src = volume.get(kind) or {}
        if src.get("name" if kind == "configMap" else "secretName") == source:
            mount = (storage.get("extraVolumeMounts") or {}).get(name) or {}
            return str(mount.get("mountPath")) if mount.get("mountPath") else None
    return None


def _env(team: _Team) -> dict[str, Any]:
    return dict(team.singleuser.get("extraEnv") or {})


def _spark_operator(team: _Team, user: str, identity: Link) -> Iterator[Path]:
    for cm in team.kube("ConfigMap", "spark-application-template", team.namespace):
        data = (cm.inputs.get("data") or {}).get("sparkapplication.yaml")
        import yaml

        app = yaml.safe_load(data) if isinstance(data, str) else {}
        spec = (app or {}).get("spec") or {}
        account = str(team.singleuser.get("serviceAccountName"))
        submit = _may(
            team,
            account,
            team.namespace,
            "sparkoperator.k8s.io",
            "sparkapplications",
            {"create", "get", "watch", "delete"},
        )
        logs = _may(team, account, team.namespace, "", "pods/log", {"get"})
        mount = _mounted(team, "configMap", "spark-application-template")
        template = Link(
            "template",
            mount is not None,
            f"mounted at {mount}"
            if mount
            else "the template ConfigMap is not mounted in the servers",
        )
        image = str(spec.get("image") or "")
        workspace_image = (team.singleuser.get("image") or {}).get("name") or ""
        image_link = Link(
            "image",
            bool(image) and not image.startswith(f"{workspace_image}:"),
            f"{image}"
            if image and not image.startswith(f"{workspace_image}:")
            else f"the template runs {image or 'no image'}, not a Spark image",
        )
        driver = spec.get("driver") or {}
        executor = spec.get("executor") or {}
        driver_sa = str(driver.get("serviceAccount") or "default")
        driver_rbac = _may(team, driver_sa, team.namespace, "", "pods", {"create", "delete"})
        driver_rbac = Link(driver_rbac.what, driver_rbac.ok, f"driver: {driver_rbac.detail}")
        watching = [
            r
            for r in team.releases("spark-operator")
            if team.namespace
            in (((r.inputs.get("values") or {}).get("spark") or {}).get("jobNamespaces") or [])
        ]
        operator = Link(
            "operator",
            bool(watching) or not team.releases("spark-operator"),
            "the team's Spark operator watches the namespace"
            if watching
            else (
                "the cluster's shared Spark operator"
                if not team.releases("spark-operator")
                else f"no Spark operator watches {team.namespace}"
            ),
        )
        fits = [
            _fit(
                team,
                role,
                pod.get("nodeSelector"),
                parse_millicpu(str(pod.get("coreRequest") or f"{pod.get('cores', 1)}")),
                _mib(pod.get("memory", "0m")) + _mib(pod.get("memoryOverhead", "384m")),
            )
            for role, pod in (("driver", driver), ("executor", executor))
        ]
        yield Path(
            "spark",
            user,
            "SparkApplication",
            (identity, submit, logs, template, image_link, driver_rbac, operator, *fits),
        )


def _spark_emr(team: _Team, user: str, identity: Link) -> Iterator[Path]:
    jobs = [
        r
        for r in team.graph.of_type("aws:iam/role:Role")
        if r.capability == "spark" and "Emr" in (r.parent or "")
    ]
    if not jobs:
        return
    job_arn = jobs[0].outputs.get("arn")
    account = team.kube(
        "ServiceAccount", str(team.singleuser.get("serviceAccountName")), team.namespace
    )
    role_arn = (
        ((account[0].inputs.get("metadata") or {}).get("annotations") or {}) if account else {}
    ).get("eks.amazonaws.com/role-arn", "")
    role = _role_by_arn(team.graph, str(role_arn))
    starts = passes = False
    for policy in team.graph.of_type("aws:iam/rolePolicy:RolePolicy"):
        if role is None or policy.inputs.get("role") != role.inputs.get("name"):
            continue
        for s in _statements(policy.inputs.get("policy")):
            actions = _as_list(s.get("Action"))
            if any(a.endswith(":StartJobRun") for a in actions) and s.get("Effect") == "Allow":
                starts = True
            if "iam:PassRole" in actions and _as_list(s.get("Resource")) == [job_arn]:
                passes = True
    permission = Link(
        "permission",
        starts and passes,
        "the workspaces' role may start job runs and pass the job role"
        if starts and passes
        else (
            "the workspaces' role may not start job runs"
            if not starts
            else f"the workspaces' role may not pass the job role {job_arn}"
        ),
    )
    links = [identity, permission]
    templates = [
        r
        for r in team.graph.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
        if "pod-templates/" in str(r.inputs.get("key"))
    ]
    if any(r.type == "aws:emrcontainers/virtualCluster:VirtualCluster" for r in team.graph):
        import yaml

        for which in ("driver", "executor"):
            found = [t for t in templates if str(t.inputs.get("key")).endswith(f"/{which}.yaml")]
            selector = (
                (yaml.safe_load(str(found[0].inputs.get("content"))) or {})
                .get("spec", {})
                .get("nodeSelector")
                if found
                else None
            )
            tiers = _tier_of(team, selector) if found else []
            links.append(
                Link(
                    "placement",
                    bool(tiers),
                    f"{which} pod template on tier {tiers[0]}"
                    if tiers
                    else f"no {which} pod template on a tier",
                )
            )
    yield Path("spark", user, "EMR job run", tuple(links))


def _kafka(team: _Team, user: str) -> Iterator[Path]:
    clusters = team.kube("Kafka", namespace=team.namespace)
    env = _env(team)
    for cluster in clusters:
        name = (cluster.inputs.get("metadata") or {}).get("name")
        listeners = ((cluster.inputs.get("spec") or {}).get("kafka") or {}).get("listeners") or []
        port = next((int(li["port"]) for li in listeners if li.get("tls")), 9093)
        brokers = (
            team.namespace,
            {
                "strimzi.io/cluster": str(name),
                "strimzi.io/kind": "Kafka",
                "strimzi.io/broker-role": "true",
            },
        )
        network = _network(team, f"brokers of {name}", brokers, port)
        secret = ((env.get("KAFKA_SASL_PASSWORD") or {}).get("valueFrom") or {}).get(
            "secretKeyRef"
        ) or {}
        users = {
            (u.inputs.get("metadata") or {}).get("name"): u
            for u in team.kube("KafkaUser", namespace=team.namespace)
        }
        kuser = users.get(secret.get("name"))
        ca_mount = _mounted(team, "secret", f"{name}-cluster-ca-cert")
        bootstrap = (env.get("KAFKA_BOOTSTRAP_SERVERS") or {}).get("value")
        expected = f"{name}-kafka-bootstrap.{team.namespace}.svc:{port}"
        if kuser is None:
            creds = Link(
                "credentials", False, "no KafkaUser's password (KAFKA_SASL_PASSWORD) in the servers"
            )
        elif ca_mount is None:
            creds = Link(
                "credentials",
                False,
                f"the cluster CA ({name}-cluster-ca-cert) is not mounted in the servers",
            )
        elif bootstrap != expected:
            creds = Link(
                "credentials", False, f"KAFKA_BOOTSTRAP_SERVERS is {bootstrap}, not {expected}"
            )
        else:
            creds = Link(
                "credentials",
                True,
                f"KafkaUser {secret.get('name')}'s password, CA at {ca_mount}, {bootstrap}",
            )
        for topic in team.kube("KafkaTopic", namespace=team.namespace):
            topic_name = str((topic.inputs.get("spec") or {}).get("topicName"))
            if kuser is None:
                acl = Link("acl", False, "no KafkaUser to hold ACLs")
            else:
                ops: set[str] = set()
                for a in ((kuser.inputs.get("spec") or {}).get("authorization") or {}).get(
                    "acls"
                ) or []:
                    res = a.get("resource") or {}
                    if res.get("type") == "topic" and res.get("name") in (topic_name, "*"):
                        ops |= set(a.get("operations") or [])
                acl = Link(
                    "acl",
                    {"Read", "Write"} <= ops,
                    f"{secret.get('name')} may {','.join(sorted(ops)) or 'nothing'} on {topic_name}",
                )
            yield Path("kafka", user, topic_name, (network, creds, acl))
    for msk in [
        r
        for r in team.graph
        if r.type in ("aws:msk/cluster:Cluster", "aws:msk/serverlessCluster:ServerlessCluster")
    ]:
        _, how = _direction(
            team, "Egress", (team.namespace, WORKSPACE_LABELS), ("", {}), MSK_IAM_PORT
        )
        # the brokers are addresses in the VPC: an ipBlock rule on the IAM port is the path
        cidr_rule = any(
            any("ipBlock" in p for p in rule.get("to") or [])
            and _port(rule.get("ports"), MSK_IAM_PORT)
            for pol in team.kube("NetworkPolicy", namespace=team.namespace)
            for rule in (pol.inputs.get("spec") or {}).get("egress") or []
        )
        network = Link(
            "network",
            cidr_rule,
            "egress to the MSK IAM port"
            if cidr_rule
            else f"no egress to port {MSK_IAM_PORT}: {how}",
        )
        yield Path(
            "kafka", user, str(msk.inputs.get("clusterName")), (network, _msk_credentials(team))
        )


def _workspace_role(team: _Team) -> Resource | None:
    account = team.kube(
        "ServiceAccount", str(team.singleuser.get("serviceAccountName")), team.namespace
    )
    meta = (account[0].inputs.get("metadata") or {}) if account else {}
    arn = (meta.get("annotations") or {}).get("eks.amazonaws.com/role-arn")
    return _role_by_arn(team.graph, str(arn)) if arn else None


def _msk_credentials(team: _Team) -> Link:
    """MSK's IAM auth: the workspaces' role may connect, read and write."""
    role = _workspace_role(team)
    if role is None:
        return Link("credentials", False, "the workspaces have no IAM role")
    granted: set[str] = set()
    for policy in team.graph.of_type("aws:iam/rolePolicy:RolePolicy"):
        if policy.inputs.get("role") == role.inputs.get("name"):
            for st in _statements(policy.inputs.get("policy")):
                if st.get("Effect") == "Allow":
                    granted |= {str(a) for a in _as_list(st.get("Action"))}
    need = {"kafka-cluster:Connect", "kafka-cluster:ReadData", "kafka-cluster:WriteData"}
    if not need <= granted:
        return Link(
            "credentials",
            False,
            f"the workspaces' role {role.inputs.get('name')} may not "
            + ", ".join(sorted(need - granted)),
        )
    return Link("credentials", True, f"IAM role {role.inputs.get('name')}: connect, read, write")


def _serving(team: _Team, user: str) -> Iterator[Path]:
    for isvc in team.kube("InferenceService", namespace=team.namespace):
        name = str((isvc.inputs.get("metadata") or {}).get("name"))
        predictor = (
            team.namespace,
            {"serving.kserve.io/inferenceservice": name, "component": "predictor"},
        )
        network = _network(team, f"model {name}", predictor, PREDICTOR_PORT)
        endpoint = Link(
            "endpoint", True, f"http://{name}-predictor.{team.namespace}.svc.cluster.local"
        )
        yield Path("serving", user, name, (endpoint, network))


def access(graph: ResourceGraph, user: str) -> list[Path]:
    """Every path of one user: a workspace on each tier the user's groups allow, and from
    it Spark, each topic and each model."""
    team = _team(graph)
    if team is None:
        return []
    allowed = _allowed_tiers(team, user)
    paths = [_workspace(team, user, tier, group) for tier, group in allowed.items()]
    if not allowed:
        return paths
    identity = _service_account(
        team, str(team.singleuser.get("serviceAccountName")), team.namespace
    )
    paths += list(_spark_operator(team, user, identity))
    paths += list(_spark_emr(team, user, identity))
    paths += list(_kafka(team, user))
    paths += list(_serving(team, user))
    return paths


def contracts(graph: ResourceGraph) -> list[Path]:
    return [p for user in users(graph) for p in access(graph, user)]


def findings(graph: ResourceGraph) -> list[Finding]:
    team = _team(graph)
    out = []
    for path in contracts(graph):
        missing = path.missing
        if missing is None or team is None:
            continue
        out.append(
            Finding(
                f"contract-{path.contract}",
                "high",
                team.hub.urn,
                team.hub.name,
                team.hub.type,
                "",
                f"{path.user} cannot use {path.contract} {path.target}: missing {missing.what}: {missing.detail}",
            )
        )
    return sorted(set(out), key=lambda f: (f.rule, f.message))


def render_access(user: str, paths: list[Path]) -> str:
    if not paths:
        return (
            f"{user}: no workspace on any tier (not a member of a group with a tier, or no hub)\n"
        )
    lines = []
    for path in paths:
        mark = "ok  " if path.ok else "FAIL"
        lines.append(f"{mark} {path.contract} {path.target} ({user})")
        for link in path.links:
            lines.append(f"       {'+' if link.ok else 'x'} {link.what}: {link.detail}")
    failed = sum(not p.ok for p in paths)
    lines.append(f"{len(paths)} paths, {failed} failed")
    return "\n".join(lines) + "\n"
