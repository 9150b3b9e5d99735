"""The vendored files of /docs and /redoc are exactly the pinned npm releases' files
(shared/docs_pages/vendor/manifest.json), and /docs/assets/ serves those and nothing else."""

from __future__ import annotations

import hashlib
import importlib

import httpx
import pytest

from services.enrollment.app import create_app
from shared.docs_pages import MANIFEST, VENDOR
from shared.settings import Settings


@pytest.mark.parametrize("name", sorted(MANIFEST["files"]))
def test_every_vendored_file_has_the_hash_the_manifest_pins(name):
    digest = hashlib.sha256((VENDOR / name).read_bytes()).hexdigest()
    assert digest == MANIFEST["files"][name]["sha256"], f"{name} is not the pinned release's file"


def test_the_folder_holds_the_manifests_files_and_its_notes_only():
    present = {path.name for path in VENDOR.iterdir()}
    assert present == {*MANIFEST["files"], "manifest.json", "README.md"}


def test_every_file_comes_from_a_package_pinned_to_an_exact_version_and_integrity():
    for name, entry in MANIFEST["files"].items():
        package = MANIFEST["packages"][entry["package"]]
        assert package["version"].count(".") == 2 and package["version"][0].isdigit(), name
        assert package["integrity"].startswith("sha512-"), name


async def test_docs_assets_serves_the_listed_files_only():
    app = create_app(Settings(workers=[]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        bundle = await http.get("/docs/assets/swagger-ui-bundle.js")
        assert bundle.status_code == 200
        assert bundle.headers["content-type"] == "text/javascript; charset=utf-8"
        assert bundle.content == (VENDOR / "swagger-ui-bundle.js").read_bytes()
        for name in ("manifest.json", "README.md", "..%2Fmanifest.json", "nope.js"):
            assert (await http.get(f"/docs/assets/{name}")).status_code == 404, name


SIGNIN_BUNDLE = "oidc-client-ts.min.js"


def test_the_signin_library_is_the_browser_bundle_that_defines_the_global_oidc():
    """Pages load it with a plain <script> (no build step, no module loader): the UMD browser
    build assigns ``var oidc``, and the pages use its UserManager."""
    entry = MANIFEST["files"][SIGNIN_BUNDLE]
    assert entry["path"] == "package/dist/browser/oidc-client-ts.min.js"
    assert MANIFEST["packages"]["oidc-client-ts"]["version"].startswith("3.")
    text = (VENDOR / SIGNIN_BUNDLE).read_text()
    assert text.startswith('"use strict";var oidc=')
    assert "UserManager" in text and "WebStorageStateStore" in text
    # Its licence and that of the jwt-decode it bundles sit beside it.
    assert {"oidc-client-ts.LICENSE", "jwt-decode.LICENSE"} <= set(MANIFEST["files"])
    assert MANIFEST["files"]["jwt-decode.LICENSE"]["package"] == "jwt-decode"


@pytest.mark.parametrize("service", ["enrollment", "training", "assessment", "compensation"])
async def test_every_service_serves_the_signin_library_from_its_own_origin(service):
    module = importlib.import_module(f"services.{service}.app")
    app = module.create_app(Settings(workers=[]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        answer = await http.get(f"/docs/assets/{SIGNIN_BUNDLE}")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
        assert answer.content == (VENDOR / SIGNIN_BUNDLE).read_bytes()
