"""The project's own docs describe the code beside them: docs/rules.md gives every rule the code
cites its title, the one the rule's problem page shows, and every module path the docs name
exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.docs_pages.rules import RULE_TITLES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("docs/rules.md", "docs/http.md", "docs/organisation.md", "docs/workbench.md")
RULE_HEADING = re.compile(r"^### (R-\d+[a-z]?): (.+)$", re.MULTILINE)
REPO_PATH = re.compile(r"`((?:services|shared|ops|tests|bench|deploy|docs)/[\w./-]+)`")


def test_rules_md_heads_each_rule_with_the_title_its_problem_page_shows():
    headings = dict(RULE_HEADING.findall((ROOT / "docs/rules.md").read_text()))
    assert headings == RULE_TITLES


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_the_docs_name_exists(doc):
    named = set(REPO_PATH.findall((ROOT / doc).read_text()))
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert missing == [], f"{doc} names paths that do not exist: {missing}"


OUTSIDE = re.compile(r"\.\./shared|domain-rules\.md|api-contract\.md|architecture\.md")


def test_no_code_or_doc_points_to_documents_outside_the_repository():
    pointing = {
        str(path.relative_to(ROOT))
        for folder in ("shared", "services", "ops", "tests", "docs")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in {".py", ".md", ".sql", ".json"} and OUTSIDE.search(path.read_text())
    }
    assert pointing == set(), sorted(pointing)
