"""The development provider's users and configuration (ops/identity_provider.py): a user for
every role and branch, with the subs of the demo data, so that signing in as a demo trainer or
clerk shows that person's part of the demo."""

from __future__ import annotations

from datetime import date

from ops import export, imports, retention
from ops import scenario as sc
from ops.demo import DEFAULT_SEED, DEFAULT_TRAINEES
from ops.identity_provider import (
    CLI_CLIENT,
    RESOURCE,
    TEST_REDIRECT_URI,
    demo_users,
    issuer_url,
    provider_config,
)
from shared.auth import Role
from shared.settings import Settings


def test_every_role_and_branch_has_a_demo_user():
    users = demo_users()
    held = {role for user in users for role in user.roles}
    assert {str(role) for role in Role} | {"admin"} <= held
    for branch in sc.BRANCHES:
        of_branch = {role for u in users if u.branch_id == branch for role in u.roles}
        assert {"branch_clerk", "trainee"} <= of_branch, branch
    assert len({u.sub for u in users}) == len(users)


def test_demo_users_are_the_people_of_the_demo_data():
    users = {u.sub: u for u in demo_users()}
    scenario = sc.build(DEFAULT_SEED, DEFAULT_TRAINEES, date(2026, 3, 20))
    trainees = {t.trainee_id: t for t in scenario.trainees}
    for user in users.values():
        if "trainee" in user.roles:
            assert trainees[user.sub].branch_id == user.branch_id
        if "trainer" in user.roles:
            assert sc.TRAINERS[user.sub].department == user.department
    assert set(sc.TRAINERS) <= set(users)
    examiners = {u.department for u in users.values() if "examiner" in u.roles}
    assert examiners == {*sc.DEPARTMENTS, *sc.WRITTEN_EXAMINERS}


def test_the_provider_is_configured_from_the_settings():
    settings = Settings(port_offset=100, oidc_audience="api://gradeline", oidc_client_id="web")
    config = provider_config(settings, 9500, demo_users())
    assert config["issuer"] == issuer_url(9500) == "http://127.0.0.1:9500"
    assert (config["audience"], config["client_id"], config["resource"]) == (
        "api://gradeline",
        "web",
        RESOURCE,
    )
    assert "http://127.0.0.1:8103/dashboard" in config["redirect_uris"]
    assert "http://127.0.0.1:8101/app/" in config["redirect_uris"]  # the workbench
    assert "http://127.0.0.1:8101/app/" in config["post_logout_redirect_uris"]
    assert TEST_REDIRECT_URI in config["redirect_uris"]
    assert TEST_REDIRECT_URI not in config["post_logout_redirect_uris"]
    assert config["cors_origins"] == settings.allowed_origins()
    clerk = next(u for u in config["users"] if u["sub"] == "clerk-bo-east")
    assert clerk["claims"] == {"roles": ["branch_clerk"], "branch_id": "bo-east"}


def test_the_command_lines_client_holds_the_role_of_every_command_and_no_other():
    # A role grants only its own rights: each command's role is there, and nothing more.
    needed = {
        *(str(e.role) for e in export.EXPORTS.values()),
        *(str(role) for role in imports.IMPORTERS.values()),
        str(retention.ROLE),
    }
    assert set(CLI_CLIENT.roles) == needed == {"admin", "payroll", "after_sales_manager"}
    (client,) = provider_config(Settings(), 9400, [])["service_clients"]
    assert client == {
        "client_id": "gradeline-cli",
        "client_secret": CLI_CLIENT.client_secret,
        "claims": {"roles": ["admin", "after_sales_manager", "payroll"]},
    }
