"""deploy/keycloak/gradeline-realm.json and compose's Keycloak, checked statically (no Docker
engine here): the realm Keycloak imports at start (``start-dev --import-realm``) gives the roles,
the client and the claims the services read.

- the realm's roles are exactly the roles of ``shared.auth.Role``;
- the pages' client ``gradeline-web`` is public, Authorization Code only, PKCE S256 required,
  redirects back only to the services' pages;
- its mappers put the audience, the realm roles, ``branch_id`` and ``department`` into access
  tokens under the claim names the settings read;
- one example user per role, with a temporary password, the branch and department attributes
  declared by the realm's user profile (Keycloak drops undeclared attributes);
- the command line's client ``gradeline-cli`` is confidential with the client-credentials grant
  only, its service account holds exactly the roles of the commands that call the services, and
  its tokens carry the audience and the roles where the services read them;
- compose runs Keycloak from the official image with that file mounted for import, and the
  services' settings point at its realm: issuer, audience, roles claim and client as the realm
  makes them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.identity_provider import CLI_CLIENT
from shared.auth import Role
from shared.settings import SERVICE_PORTS, Settings
from tests.deploy.test_manifests import interpolate, settings_from_environment

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
REALM_FILE = DEPLOY / "keycloak" / "gradeline-realm.json"
IMPORT_DIR = "/opt/keycloak/data/import"
CLIENT_ID = "gradeline-web"  # the pages' client, the default of GRADELINE_OIDC_CLIENT_ID
AUDIENCE = "gradeline"
ROLES_CLAIM = "realm_access.roles"  # Keycloak's place for realm roles
# The pages people sign in on: the dashboard (assessment) and the workbench (enrollment).
PAGES = {"assessment": "/dashboard", "enrollment": "/app/"}
# The branches the demo registers (make run): the example users belong to them.
DEMO_BRANCHES = {"hq", "bo-east", "bo-west", "dl-north", "dl-south"}
# "admin" joins shared.auth.Role with the organisation's work; the union is Role itself then.
ROLES = {role.value for role in Role} | {"admin"}


@pytest.fixture(autouse=True)
def no_gradeline_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings built here come from the files only, not from the machine's GRADELINE_*."""
    for name in list(os.environ):
        if name.startswith("GRADELINE_"):
            monkeypatch.delenv(name)


def realm() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(REALM_FILE.read_text())
    return loaded


def client(client_id: str = CLIENT_ID) -> dict[str, Any]:
    (found,) = [c for c in realm()["clients"] if c["clientId"] == client_id]
    return found


def mappers(kind: str, client_id: str = CLIENT_ID) -> list[dict[str, str]]:
    found = client(client_id)["protocolMappers"]
    return [m["config"] for m in found if m["protocolMapper"] == kind]


def people() -> list[dict[str, Any]]:
    """The realm's users who sign in: not the clients' service accounts."""
    return [u for u in realm()["users"] if "serviceAccountClientId" not in u]


def keycloak_service() -> dict[str, Any]:
    service: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"][
        "keycloak"
    ]
    return service


def test_the_realm_roles_are_the_roles_of_the_services() -> None:
    assert realm()["realm"] == "gradeline"
    names = [r["name"] for r in realm()["roles"]["realm"]]
    assert sorted(names) == sorted(ROLES)
    assert not any(r.get("composite") for r in realm()["roles"]["realm"])


def test_the_pages_client_is_public_and_needs_pkce_s256() -> None:
    web = client()
    assert web["publicClient"] is True and web["enabled"] is True
    assert web["protocol"] == "openid-connect"
    assert web["standardFlowEnabled"] is True  # Authorization Code
    # No token without the code and its verifier: no implicit, password or client grants.
    assert web["implicitFlowEnabled"] is False
    assert web["directAccessGrantsEnabled"] is False
    assert web["serviceAccountsEnabled"] is False
    assert web["attributes"]["pkce.code.challenge.method"] == "S256"


def test_the_client_redirects_only_to_the_services_pages() -> None:
    web = client()
    expected = {
        f"http://{host}:{SERVICE_PORTS[service]}{path}*"
        for service, path in PAGES.items()
        for host in ("127.0.0.1", "localhost")
    }
    assert set(web["redirectUris"]) == expected
    # The token endpoint answers the pages' origins (CORS) and nothing else.
    origins = {uri.split("/", 3)[0] + "//" + uri.split("/", 3)[2] for uri in expected}
    assert set(web["webOrigins"]) == origins
    assert "*" not in web["webOrigins"]
    # Signing out returns to the page it started from ("+": the redirect URIs).
    assert web["attributes"]["post.logout.redirect.uris"] == "+"


def test_access_tokens_carry_the_audience_the_services_check() -> None:
    (audience,) = mappers("oidc-audience-mapper")
    assert audience["included.custom.audience"] == AUDIENCE
    assert audience["access.token.claim"] == "true"


def test_access_tokens_carry_the_realm_roles_where_the_roles_claim_points() -> None:
    (roles,) = mappers("oidc-usermodel-realm-role-mapper")
    assert roles["claim.name"] == ROLES_CLAIM
    assert roles["multivalued"] == "true"
    assert roles["access.token.claim"] == "true"


def test_access_tokens_carry_branch_and_department_under_the_default_claim_names() -> None:
    # GRADELINE_OIDC_BRANCH_CLAIM and GRADELINE_OIDC_DEPARTMENT_CLAIM default to these names.
    by_claim = {m["claim.name"]: m for m in mappers("oidc-usermodel-attribute-mapper")}
    assert set(by_claim) == {"branch_id", "department"}
    for claim, mapper in by_claim.items():
        assert mapper["user.attribute"] == claim
        assert mapper["jsonType.label"] == "String" and mapper["multivalued"] == "false"
        assert mapper["access.token.claim"] == "true"


def test_the_user_profile_declares_the_attributes_the_mappers_read() -> None:
    (component,) = realm()["components"]["org.keycloak.userprofile.UserProfileProvider"]
    assert component["providerId"] == "declarative-user-profile"
    (text,) = component["config"]["kc.user.profile.config"]
    declared = {a["name"] for a in json.loads(text)["attributes"]}
    assert {"username", "email", "firstName", "lastName", "branch_id", "department"} <= declared


def test_one_example_user_per_role_with_a_temporary_password() -> None:
    users = people()
    roles = [role for user in users for role in user["realmRoles"]]
    assert sorted(roles) == sorted(ROLES), "one user per role, each with one role"
    for user in users:
        name = user["username"]
        (credential,) = user["credentials"]
        assert credential["type"] == "password" and credential["temporary"] is True, name
        # Keycloak asks for these at the first sign-in when missing: the demo users have them.
        assert user["email"] and user["firstName"] and user["lastName"], name
        assert len(user["id"]) <= 36, name  # Keycloak's id column
        attributes = user.get("attributes", {})
        assert set(attributes) <= {"branch_id", "department"}, name
        for value in attributes.get("branch_id", []):
            assert value in DEMO_BRANCHES, f"{name}: not a demo branch: {value}"
    by_role = {user["realmRoles"][0]: user for user in users}
    # A clerk reads its own branch only: it needs one; an examiner posts its department's score.
    assert by_role["branch_clerk"]["attributes"]["branch_id"] == ["bo-east"]
    assert by_role["examiner"]["attributes"]["department"] == ["after_sales"]
    # A trainee's and a trainer's subject is their id in the services (Keycloak keeps an
    # imported user's id as its subject).
    assert by_role["trainee"]["id"].startswith("t-")
    assert by_role["trainer"]["id"].startswith("tr-")


def test_compose_runs_keycloak_from_the_official_image_importing_the_realm() -> None:
    keycloak = keycloak_service()
    image, _, tag = keycloak["image"].partition(":")
    assert image == "quay.io/keycloak/keycloak"
    assert tag.count(".") == 2 and tag[0].isdigit(), "pin an exact release"
    command = keycloak["command"]
    assert command[0] in {"start", "start-dev"} and "--import-realm" in command
    mounts = {}
    for volume in keycloak["volumes"]:
        source, target, *_ = volume.split(":")
        mounts[target] = source
    source = mounts[f"{IMPORT_DIR}/{REALM_FILE.name}"]
    assert (DEPLOY / source).resolve() == REALM_FILE
    check = keycloak["healthcheck"]["test"]
    assert check[0] in {"CMD", "CMD-SHELL"} and "/health/ready" in " ".join(check)
    assert keycloak["environment"]["KC_HEALTH_ENABLED"] == "true"
    published = [str(port) for port in keycloak["ports"]]
    assert published == ["127.0.0.1:8080:8080"]


def compose_settings() -> dict[str, Settings]:
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    return {
        name: settings_from_environment(services[name]["environment"], f"compose {name}")
        for name in SERVICE_PORTS
    }


def test_compose_services_trust_the_realms_tokens_and_read_their_claims() -> None:
    keycloak = keycloak_service()
    issuer = f"{interpolate(keycloak['environment']['KC_HOSTNAME'])}/realms/{realm()['realm']}"
    (audience,) = mappers("oidc-audience-mapper")
    (roles,) = mappers("oidc-usermodel-realm-role-mapper")
    attributes = {
        m["user.attribute"]: m["claim.name"] for m in mappers("oidc-usermodel-attribute-mapper")
    }
    for name, settings in compose_settings().items():
        # Keycloak names itself by KC_HOSTNAME in the tokens' iss: the same URL as the services'.
        assert settings.oidc_issuer == issuer, name
        assert settings.oidc_audience == audience["included.custom.audience"], name
        assert settings.oidc_roles_claim == roles["claim.name"], name
        assert settings.oidc_branch_claim == attributes["branch_id"], name
        assert settings.oidc_department_claim == attributes["department"], name
        assert settings.oidc_client_id == client()["clientId"], name
        assert settings.environment == "development", name  # http issuer: development only


def test_keycloak_listens_where_the_issuer_says() -> None:
    keycloak = keycloak_service()
    url = interpolate(keycloak["environment"]["KC_HOSTNAME"])
    assert url == "http://keycloak:8080"  # the compose service's name and its HTTP port
    assert "127.0.0.1:8080:8080" in keycloak["ports"]


# --- the command line's service account --------------------------------------------------------


def test_the_command_lines_client_is_confidential_with_client_credentials_only() -> None:
    cli = client(CLI_CLIENT.client_id)
    assert cli["enabled"] is True and cli["protocol"] == "openid-connect"
    assert cli["publicClient"] is False and cli["clientAuthenticatorType"] == "client-secret"
    assert cli["serviceAccountsEnabled"] is True  # the client-credentials grant
    assert cli["standardFlowEnabled"] is False
    assert cli["implicitFlowEnabled"] is False
    assert cli["directAccessGrantsEnabled"] is False
    assert cli["redirectUris"] == [] and cli["webOrigins"] == []  # never in a browser
    assert cli["secret"].endswith("-change-me"), "a placeholder, to be regenerated"


def test_the_service_account_holds_exactly_the_roles_of_the_commands() -> None:
    (account,) = [
        u for u in realm()["users"] if u.get("serviceAccountClientId") == CLI_CLIENT.client_id
    ]
    assert account["username"] == f"service-account-{CLI_CLIENT.client_id}"  # Keycloak's name
    assert sorted(account["realmRoles"]) == sorted(CLI_CLIENT.roles)
    assert {"admin", "payroll", "after_sales_manager"} == set(CLI_CLIENT.roles)
    assert "credentials" not in account  # it signs in with the client's secret only


def test_the_command_lines_tokens_carry_the_audience_and_the_roles() -> None:
    (audience,) = mappers("oidc-audience-mapper", CLI_CLIENT.client_id)
    assert audience["included.custom.audience"] == AUDIENCE
    assert audience["access.token.claim"] == "true"
    (roles,) = mappers("oidc-usermodel-realm-role-mapper", CLI_CLIENT.client_id)
    assert roles["claim.name"] == ROLES_CLAIM and roles["access.token.claim"] == "true"
