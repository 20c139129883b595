"""Hub sign-in in the JupyterHub values: the authenticator per provider, the client secret
only by reference, and a locked hub (never the chart's dummy authenticator) without auth."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from testkit import PROFILES

from dsenv.offline.graph import Resource, ResourceGraph
from dsenv.offline.rules import run_rules
from dsenv.profile.load import load_profile
from dsenv.spec.expand import expand_profile
from dsenv.spec.model import EnvironmentSpec
from dsenv.stacks.components.workspaces import hub_values


def _spec(name: str) -> EnvironmentSpec:
    return expand_profile(load_profile(PROFILES / f"{name}.yaml"))


def _values(spec: EnvironmentSpec) -> dict[str, Any]:
    return hub_values(spec.workspaces, image="registry.example/team:1")


def test_github_sign_in_is_gated_by_the_org_and_keeps_the_group_members() -> None:
    config = _values(_spec("fraud"))["hub"]["config"]
    assert config["JupyterHub"]["authenticator_class"] == "github"
    gh = config["GitHubOAuthenticator"]
    assert gh["allowed_organizations"] == ["acme"]
    assert gh["scope"] == ["read:org"]
    assert gh["oauth_callback_url"] == "https://hub.fraud.acme.example/hub/oauth_callback"
    assert config["Authenticator"]["allowed_users"] == ["alice", "bob", "carol"]
    assert config["Authenticator"]["admin_users"] == ["alice"]


def test_oidc_sign_in_uses_the_profiles_endpoints_and_claim() -> None:
    config = _values(_spec("sandbox"))["hub"]["config"]
    assert config["JupyterHub"]["authenticator_class"] == "generic-oauth"
    oidc = config["GenericOAuthenticator"]
    assert oidc["token_url"].endswith("/protocol/openid-connect/token")
    assert oidc["username_claim"] == "preferred_username"
    assert "openid" in oidc["scope"]
    assert oidc["allow_all"] is True  # sandbox declares no groups: everyone the IdP admits


def test_groups_claim_admits_idp_groups_named_like_dsenv_groups() -> None:
    spec = _spec("sandbox")
    assert spec.workspaces is not None and spec.workspaces.auth is not None
    ws = dataclasses.replace(
        spec.workspaces,
        groups={"analysts": ("bob",)},
        auth=dataclasses.replace(spec.workspaces.auth, groups_claim="groups"),
    )
    config = _values(dataclasses.replace(spec, workspaces=ws))["hub"]["config"]
    oidc = config["GenericOAuthenticator"]
    assert (oidc["claim_groups_key"], oidc["allowed_groups"]) == ("groups", ["analysts"])
    assert "allow_all" not in oidc
    # OAuthenticator applies allowed_groups only with manage_groups on
    assert config["Authenticator"]["manage_groups"] is True


def test_client_secret_is_only_a_reference_to_the_named_secret() -> None:
    for name, secret in (("fraud", "hub-oauth"), ("sandbox", "hub-oidc")):
        values = _values(_spec(name))
        env = values["hub"]["extraEnv"]["OAUTH_CLIENT_SECRET"]
        assert env == {"valueFrom": {"secretKeyRef": {"name": secret, "key": "client-secret"}}}
        assert "client_secret" not in json.dumps(values["hub"]["config"])


def test_a_team_without_auth_gets_a_locked_hub_that_check_reports() -> None:
    spec = _spec("fraud")
    assert spec.workspaces is not None
    locked = dataclasses.replace(spec, workspaces=dataclasses.replace(spec.workspaces, auth=None))
    values = _values(locked)
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] == "null"
    assert "extraEnv" not in values["hub"]
    release = Resource(
        urn="urn:pulumi:t::dsenv::kubernetes:helm.sh/v3:Release::hub",
        type="kubernetes:helm.sh/v3:Release",
        name="hub",
        custom=True,
        parent=None,
        dependencies=(),
        inputs={"chart": "jupyterhub", "values": values},
    )
    findings = run_rules(ResourceGraph(stack="t", project="dsenv", resources=[release]))
    hub = [(f.severity, "locked" in f.message) for f in findings if f.rule == "hub-auth"]
    assert hub == [("low", True)]
