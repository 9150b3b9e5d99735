"""``make screenshots`` (ops/screenshots.py) photographs every role the workbench serves, as a
demo user who has that role, and the README shows what it wrote."""

from __future__ import annotations

import re
from pathlib import Path

from ops.identity_provider import demo_users
from ops.screenshots import FOLDER, LANGUAGES, SHOTS
from shared.auth import Role

ROOT = Path(__file__).resolve().parents[2]
VIEWS = ROOT / "services" / "enrollment" / "workbench" / "views.js"


def roles_with_views() -> set[str]:
    """The roles views.js names (each as a string constant or in a view's roles)."""
    named = set(re.findall(r'"(\w+)"', VIEWS.read_text()))
    return named & {role.value for role in Role}


def test_every_role_of_the_workbench_is_photographed():
    users = {user.sub: set(user.roles) for user in demo_users()}
    assert all(shot.sub in users for shot in SHOTS), "every shot signs in as a demo user"
    photographed = set().union(*(users[shot.sub] for shot in SHOTS))
    missing = roles_with_views() - photographed
    # The production manager works in the after-sales manager's views.
    assert missing <= {Role.PRODUCTION_MANAGER.value}, missing


def test_the_readme_shows_every_photo_and_each_is_in_the_repository():
    readme = (ROOT / "README.md").read_text()
    for shot in SHOTS:
        for lang in LANGUAGES:
            photo = FOLDER / f"{shot.stem}-{lang}.png"
            assert photo.is_file(), photo
            assert photo.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", photo
        assert f"docs/screenshots/{shot.stem}-en.png" in readme, shot.stem
