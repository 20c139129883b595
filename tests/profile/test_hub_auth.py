"""`workspaces.auth`: provider requirements reported at the value to fix, org defaults
inherited by the teams' hubs, the callback derived from `workspaces.host`."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsenv.errors import ProfileError
from dsenv.profile.load import load_profile
from dsenv.spec.expand import expand_profile

HEAD = (
    "apiVersion: dsenv/v1\nkind: Team\nname: t\n"
    "target: {provider: kubernetes, context: kind-dsenv}\n"
    "tiers:\n  small: {cpu: 2, memory: 8Gi}\n"
)
OIDC = (
    "    provider: oidc\n"
    "    client_id: hub\n"
    "    issuer: https://login.acme.example/realms/data\n"
    "    authorize_url: https://login.acme.example/auth\n"
    "    token_url: https://login.acme.example/token\n"
    "    userdata_url: https://login.acme.example/userinfo\n"
)


def _team(tmp_path: Path, workspaces: str) -> Path:
    path = tmp_path / "team.yaml"
    path.write_text(HEAD + "workspaces:\n" + workspaces, encoding="utf-8")
    return path


def _problems(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    return [(str(p.position), p.message) for p in info.value.problems]


def test_github_without_organization_is_reported_at_the_provider(tmp_path: Path) -> None:
    path = _team(tmp_path, "  host: hub.t.example\n  auth: {provider: github, client_id: x}\n")
    ((where, message),) = _problems(path)
    assert where == f"{path}:9:20"
    assert "provider github needs workspaces.auth.organization" in message


def test_oidc_without_issuer_and_endpoints_names_each_missing_key(tmp_path: Path) -> None:
    path = _team(tmp_path, "  host: hub.t.example\n  auth: {provider: oidc, client_id: x}\n")
    messages = [m for _, m in _problems(path)]
    for key in ("issuer", "authorize_url", "token_url", "userdata_url"):
        assert any(f"workspaces.auth.{key}" in m for m in messages), (key, messages)


def test_fields_of_the_other_provider_are_reported_where_written(tmp_path: Path) -> None:
    path = _team(tmp_path, "  host: hub.t.example\n  auth:\n" + OIDC + "    organization: acme\n")
    ((where, message),) = _problems(path)
    assert where == f"{path}:16:19"
    assert "organization applies to provider github only" in message


def test_without_host_or_callback_url_the_hub_derives_the_callback(tmp_path: Path) -> None:
    spec = expand_profile(load_profile(_team(tmp_path, "  auth:\n" + OIDC)))
    assert spec.workspaces is not None and spec.workspaces.auth is not None
    assert spec.workspaces.auth.callback_url is None
    from dsenv.stacks.components.workspaces import hub_values

    oidc = hub_values(spec.workspaces, image="x:1")["hub"]["config"]["GenericOAuthenticator"]
    assert "oauth_callback_url" not in oidc


@pytest.mark.parametrize(
    "issuer", ["http://login.acme.example", "login.acme.example", "https://", "https://a b"]
)
def test_issuer_must_be_an_https_url(tmp_path: Path, issuer: str) -> None:
    text = OIDC.replace("https://login.acme.example/realms/data", f"'{issuer}'")
    ((_, message),) = _problems(_team(tmp_path, "  host: hub.t.example\n  auth:\n" + text))
    assert "is not an https:// URL" in message


def test_a_pasted_secret_value_is_refused_without_echoing_it(tmp_path: Path) -> None:
    text = "  host: hub.t.example\n  auth:\n" + OIDC + "    client_secret: 'Zx9+Secret/Value'\n"
    ((_, message),) = _problems(_team(tmp_path, text))
    assert "NAME of a Kubernetes secret" in message
    assert "Zx9" not in message


def test_callback_derives_from_the_host_and_an_explicit_one_wins(tmp_path: Path) -> None:
    derived = expand_profile(
        load_profile(_team(tmp_path, "  host: hub.t.example\n  auth:\n" + OIDC))
    )
    assert derived.workspaces is not None and derived.workspaces.auth is not None
    assert derived.workspaces.auth.callback_url == "https://hub.t.example/hub/oauth_callback"
    explicit = OIDC + "    callback_url: https://jupyter.t.example/hub/oauth_callback\n"
    spec = expand_profile(load_profile(_team(tmp_path, "  auth:\n" + explicit)))
    assert spec.workspaces is not None and spec.workspaces.auth is not None
    assert spec.workspaces.auth.callback_url == "https://jupyter.t.example/hub/oauth_callback"


def test_teams_inherit_the_org_sign_in_and_add_their_own_app(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(
        "apiVersion: dsenv/v1\nkind: Org\nname: acme\n"
        "defaults:\n  workspaces:\n"
        "    auth: {provider: github, organization: acme, client_secret: hub-oauth}\n",
        encoding="utf-8",
    )
    path = tmp_path / "team.yaml"
    path.write_text(
        HEAD.replace("name: t\n", "name: t\nextends: org.yaml\n")
        + "workspaces:\n  host: hub.t.example\n  auth: {client_id: Iv1.abc}\n",
        encoding="utf-8",
    )
    spec = expand_profile(load_profile(path))
    assert spec.workspaces is not None
    auth = spec.workspaces.auth
    assert auth is not None
    assert (auth.provider, auth.organization, auth.client_id, auth.client_secret_name) == (
        "github",
        "acme",
        "Iv1.abc",
        "hub-oauth",
    )


def test_a_team_without_auth_expands_to_no_sign_in(tmp_path: Path) -> None:
    spec = expand_profile(load_profile(_team(tmp_path, "  storage: 10Gi\n")))
    assert spec.workspaces is not None and spec.workspaces.auth is None
