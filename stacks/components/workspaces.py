"""Workspaces: JupyterHub from the Zero to JupyterHub chart, one profile per tier.

Sign-in comes from `workspaces.auth` (GitHub or OIDC, client secret by reference); a team
without it gets a locked hub (the `null` authenticator), never the chart's `dummy`.

Access per group. Chart values cannot hold a Python callable, and KubeSpawner's
`profile_list` only filters per user when it *is* a callable. So the values carry the data
(the static profile list in `singleuser.profileList`, the tier -> groups map in
`custom.dsenv.profileGroups`, the group members in `hub.config.JupyterHub.load_groups`) and
one short `hub.extraConfig` snippet turns it into a callable that offers each user only the
profiles of their groups. KubeSpawner checks the chosen profile against that same list, so a
hand-crafted spawn request cannot pick a tier the user's groups do not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from dsenv.capabilities import component_type
from dsenv.spec.workspaces import HubAuthSpec, HubIngressSpec, HubProfile, WorkspacesSpec
from dsenv.stacks.components.kube import helm_release, manifest_resource, service_account
from dsenv.stacks.components.podsecurity import (
    NOBODY,
    restricted_container_context,
    restricted_pod_context,
)

HUB_UID = 1000  # the k8s-hub image's user

PROFILE_FILTER = """\
# dsenv: offer each profile only to the groups allowed its tier (see custom.dsenv); a user
# whom no group allows a tier may not start a server (an empty list would let KubeSpawner
# start one with the chart's defaults).
from tornado import web
from z2jh import get_config

_dsenv_profiles = get_config("singleuser.profileList", [])
_dsenv_access = get_config("custom.dsenv.profileGroups", {})


def _dsenv_profile_list(spawner):
    groups = {group.name for group in spawner.user.groups}
    offered = [
        profile
        for profile in _dsenv_profiles
        if not _dsenv_access.get(profile["slug"])
        or groups & set(_dsenv_access[profile["slug"]])
    ]
    if not offered:
        raise web.HTTPError(
            403,
            f"{spawner.user.name} is in no group allowed a tier of this hub: "
            "ask a team owner to add you to a group",
        )
    return offered


c.KubeSpawner.profile_list = _dsenv_profile_list
"""


def split_image(image: str) -> tuple[str, str]:
    """ "registry:5000/repo:tag" -> ("registry:5000/repo", "tag"); no tag -> "latest"."""
    name, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:
        return image, "latest"
    return name, tag


def cull_every(timeout_seconds: int) -> int:
    """Check often enough that a server outlives its idle timeout by at most a quarter."""
    return max(60, min(600, timeout_seconds // 4))


def profile_entry(profile: HubProfile) -> dict[str, Any]:
    pool = profile.pool
    override: dict[str, Any] = {
        "cpu_guarantee": profile.cpu,
        "cpu_limit": profile.cpu,
        "mem_guarantee": profile.memory_bytes,
        "mem_limit": profile.memory_bytes,
        "node_selector": pool.node_selector,
    }
    if pool.tolerations:
        override["tolerations"] = pool.toleration_manifests()
    if profile.gpus:
        override["extra_resource_guarantees"] = {pool.gpu_resource: str(profile.gpus)}
        override["extra_resource_limits"] = {pool.gpu_resource: str(profile.gpus)}
    entry: dict[str, Any] = {
        "display_name": profile.display_name,
        "slug": profile.tier,
        "description": profile.description,
        "kubespawner_override": override,
    }
    if profile.default:
        entry["default"] = True
    return entry


#: JupyterHub authenticator entry points. `null` (NullAuthenticator) refuses every sign-in:
#: a team that declares no `workspaces.auth` gets a locked hub, never the chart's `dummy`
#: (any user name, any password).
AUTHENTICATORS = {"github": "github", "oidc": "generic-oauth", None: "null"}
#: The oauthenticators read the client secret from this environment variable.
CLIENT_SECRET_ENV = "OAUTH_CLIENT_SECRET"
OIDC_SCOPES = ["openid", "profile", "email"]


def authenticator_class(auth: HubAuthSpec | None) -> str:
    return AUTHENTICATORS[auth.provider if auth is not None else None]


def client_secret_env(auth: HubAuthSpec) -> dict[str, Any]:
    """`hub.extraEnv`: the client secret by reference to the team's Kubernetes secret."""
    ref = {"name": auth.client_secret_name, "key": auth.client_secret_key}
    return {CLIENT_SECRET_ENV: {"valueFrom": {"secretKeyRef": ref}}}


def sign_in_config(ws: WorkspacesSpec) -> dict[str, Any]:
    """The authenticator's own `hub.config` section (GitHubOAuthenticator or
    GenericOAuthenticator); empty for a locked hub."""
    auth = ws.auth
    if auth is None:
        return {}
    common: dict[str, Any] = {"client_id": auth.client_id}
    if auth.callback_url:
        common["oauth_callback_url"] = auth.callback_url
    if auth.provider == "github":
        return {
            "GitHubOAuthenticator": {
                **common,
                "allowed_organizations": [auth.organization],
                "scope": ["read:org"],
            }
        }
    generic: dict[str, Any] = {
        **common,
        "authorize_url": auth.authorize_url,
        "token_url": auth.token_url,
        "userdata_url": auth.userdata_url,
        "username_claim": auth.username_claim,
        "scope": list(OIDC_SCOPES),
        "login_service": "single sign-on",
    }
    if not ws.groups and not auth.groups_claim:
        # no groups means everyone may use every tier: everyone the IdP signs in
        generic["allow_all"] = True
    if auth.groups_claim:
        # members of an IdP group named like a dsenv group may sign in; OAuthenticator (17+)
        # reads allowed_groups only with manage_groups on (hub_values), which also makes the
        # IdP's groups the user's hub groups, so tier access follows them
        generic["claim_groups_key"] = auth.groups_claim
        generic["allowed_groups"] = sorted(ws.groups)
    return {"GenericOAuthenticator": generic}


def hub_values(ws: WorkspacesSpec, *, image: str) -> dict[str, Any]:
    """The Zero to JupyterHub values for the team (merged by Helm over the chart defaults)."""
    image_name, image_tag = split_image(image)
    members = sorted({m for users in ws.groups.values() for m in users} | set(ws.admins))
    default = ws.default_profile
    idp_groups = ws.auth is not None and ws.auth.groups_claim is not None
    authenticator: dict[str, Any] = {"admin_users": list(ws.admins), "manage_groups": idp_groups}
    if ws.groups:
        authenticator["allowed_users"] = members
    singleuser: dict[str, Any] = {
        "image": {"name": image_name, "tag": image_tag},
        "uid": ws.uid,
        "fsGid": ws.gid,
        "allowPrivilegeEscalation": False,
        "serviceAccountName": ws.service_account,
        "storage": {"type": "dynamic", "capacity": ws.storage},
        # the iptables init container needs privileges `restricted` forbids; the network
        # policies block the metadata server instead
        "cloudMetadata": {"blockWithIptables": False, "ip": "169.254.169.254"},
        "networkPolicy": {
            "enabled": True,
            "egressAllowRules": {
                "cloudMetadataServer": False,
                # egress to the internet is the team policy's HTTPS-only rule, not any port
                "nonPrivateIPs": False,
                "privateIPs": False,
            },
        },
        "profileList": [profile_entry(p) for p in ws.profiles],
    }
    if default is not None:
        singleuser["nodeSelector"] = default.pool.node_selector
    if ws.image_pull_secret:
        singleuser["image"]["pullSecrets"] = [ws.image_pull_secret]
    if ws.storage_class:
        singleuser["storage"]["dynamic"] = {"storageClass": ws.storage_class}
    env = [
        *(ws.object_store.env() if ws.object_store is not None else []),
        *ws.clients.env_manifests(),
    ]
    if env:
        # the chart's explicit notation: each entry a Kubernetes EnvVar (valueFrom allowed)
        singleuser["extraEnv"] = {e["name"]: e for e in env}
    if ws.clients.volumes:
        # the Spark template and the Kafka CA, read-only (`spec/clients.py`)
        singleuser["storage"]["extraVolumes"] = {v.name: v.volume() for v in ws.clients.volumes}
        singleuser["storage"]["extraVolumeMounts"] = {v.name: v.mount() for v in ws.clients.volumes}
    nobody = restricted_container_context(run_as_user=NOBODY, run_as_group=NOBODY)
    sign_in = sign_in_config(ws)
    hub_extra: dict[str, Any] = {}
    if ws.auth is not None:
        hub_extra["extraEnv"] = client_secret_env(ws.auth)
    if ws.storage_class:
        hub_extra["db"] = {"pvc": {"storageClassName": ws.storage_class}}
    return {
        "custom": {"dsenv": {"profileGroups": {p.tier: list(p.groups) for p in ws.profiles}}},
        "hub": {
            **hub_extra,
            "config": {
                "JupyterHub": {
                    "admin_access": False,
                    "authenticator_class": authenticator_class(ws.auth),
                    "load_groups": {g: {"users": list(users)} for g, users in ws.groups.items()},
                },
                "Authenticator": authenticator,
                **sign_in,
                "KubeSpawner": {
                    "pod_security_context": restricted_pod_context(
                        run_as_user=ws.uid, run_as_group=ws.gid, fs_group=ws.gid
                    ),
                    "container_security_context": restricted_container_context(
                        run_as_user=ws.uid, run_as_group=ws.gid
                    ),
                },
            },
            "extraConfig": {"dsenv-profile-access": PROFILE_FILTER},
            "podSecurityContext": restricted_pod_context(fs_group=HUB_UID),
            "containerSecurityContext": restricted_container_context(
                run_as_user=HUB_UID, run_as_group=HUB_UID
            ),
        },
        "proxy": {
            "service": {"type": "ClusterIP"},
            "chp": {"containerSecurityContext": nobody},
        },
        "singleuser": singleuser,
        "scheduling": {
            "userScheduler": {"containerSecurityContext": nobody},
            "userPlaceholder": {"containerSecurityContext": nobody},
        },
        "prePuller": {
            "containerSecurityContext": nobody,
            "hook": {"containerSecurityContext": nobody},
            "pause": {"containerSecurityContext": nobody},
        },
        "cull": {
            "enabled": True,
            "users": False,
            "timeout": ws.idle_timeout_seconds,
            "every": cull_every(ws.idle_timeout_seconds),
        },
    }


def hub_ingress(
    ws: WorkspacesSpec, ingress: HubIngressSpec, certificate_arn: pulumi.Input[str] | None
) -> dict[str, Any]:
    """The hub's Ingress for the AWS Load Balancer Controller: an internet-facing ALB to the
    proxy pods (target type ip), HTTPS with the ACM certificate and HTTP redirected to it when
    there is a host (external-dns keeps the host's record), plain HTTP on the ALB's own name
    otherwise."""
    annotations: dict[str, Any] = {
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "ip",
    }
    rule: dict[str, Any] = {
        "http": {
            "paths": [
                {
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": {
                        "service": {
                            "name": ingress.service,
                            "port": {"number": ingress.service_port},
                        }
                    },
                }
            ]
        }
    }
    if ingress.host is not None:
        annotations |= {
            "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
            "alb.ingress.kubernetes.io/ssl-redirect": "443",
            "alb.ingress.kubernetes.io/certificate-arn": certificate_arn,
            "external-dns.alpha.kubernetes.io/hostname": ingress.host,
        }
        rule["host"] = ingress.host
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": ingress.name,
            "namespace": ws.namespace,
            "labels": ws.labels,
            "annotations": annotations,
        },
        "spec": {"ingressClassName": ingress.ingress_class, "rules": [rule]},
    }


def _load_balancer_url(status: Any) -> str:
    found = ((status or {}).get("loadBalancer") or {}).get("ingress") or []
    host = found[0].get("hostname") if found else None
    return f"http://{host}" if host else ""


@dataclass
class WorkspacesArgs:
    workspaces: WorkspacesSpec
    image: pulumi.Input[str]  # on aws the team registry's image, known once the stack has it
    role_arn: pulumi.Input[str] | None = None  # aws: the servers' IAM role


class Workspaces(pulumi.ComponentResource):
    """JupyterHub for the team, its profiles and the single-user service account."""

    hub_url: pulumi.Output[str]
    release_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: WorkspacesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(component_type("workspaces", "Workspaces"), name, None, opts)
        ws = args.workspaces
        child = pulumi.ResourceOptions(parent=self)
        sa = service_account(
            f"{name}-user-sa",
            name=ws.service_account,
            namespace=ws.namespace,
            labels=ws.labels,
            role_arn=args.role_arn,
            opts=child,
        )
        values = pulumi.Output.from_input(args.image).apply(
            lambda image: hub_values(ws, image=image)
        )
        release = helm_release(
            name,
            ws.chart,
            namespace=ws.namespace,
            values=values,
            release_name=ws.release,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[sa]),
        )
        self.release_name = release.urn.apply(lambda _: ws.release)
        if ws.ingress is not None:
            self.hub_url = self._ingress(name, ws, ws.ingress, release)
        else:
            # target kubernetes: the proxy-public Service is ClusterIP; people come in through
            # the cluster's own ingress or a port-forward
            self.hub_url = pulumi.Output.from_input(
                f"http://proxy-public.{ws.namespace}.svc.cluster.local"
            )
        self.register_outputs({"hub_url": self.hub_url, "release_name": self.release_name})

    def _ingress(
        self,
        name: str,
        ws: WorkspacesSpec,
        ingress: HubIngressSpec,
        release: pulumi.CustomResource,
    ) -> pulumi.Output[str]:
        """The hub's Ingress; with a host its ACM certificate, validated by a record in the
        Route 53 zone. The hub URL: https://<host>, else the load balancer's address."""
        import pulumi_aws as aws

        child = pulumi.ResourceOptions(parent=self)
        certificate_arn: pulumi.Input[str] | None = None
        if ingress.host is not None and ingress.dns_zone is not None:
            zone = aws.route53.get_zone_output(name=ingress.dns_zone, private_zone=False)
            cert = aws.acm.Certificate(
                f"{name}-hub",
                domain_name=ingress.host,
                validation_method="DNS",
                tags={"Name": ingress.host},
                opts=child,
            )
            option = cert.domain_validation_options[0]
            record = aws.route53.Record(
                f"{name}-hub-validation",
                zone_id=zone.zone_id,
                name=option.resource_record_name.apply(str),
                type=option.resource_record_type.apply(str),
                records=[option.resource_record_value.apply(str)],
                ttl=300,
                allow_overwrite=True,
                opts=child,
            )
            validation = aws.acm.CertificateValidation(
                f"{name}-hub",
                certificate_arn=cert.arn,
                validation_record_fqdns=[record.fqdn],
                opts=child,
            )
            certificate_arn = validation.certificate_arn
        obj = manifest_resource(
            f"{name}-hub",
            hub_ingress(ws, ingress, certificate_arn),
            pulumi.ResourceOptions(parent=self, depends_on=[release]),
        )
        if ingress.url is not None:
            return pulumi.Output.from_input(ingress.url)
        # no host: the address the load balancer controller writes into the Ingress status
        status: pulumi.Output[Any] = obj.status  # type: ignore[attr-defined]
        return status.apply(_load_balancer_url)
