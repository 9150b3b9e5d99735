"""Domain modules are pure: importing every ``services/*/domain`` module loads no database driver
(deciders never do I/O; README.md, "Layout": domain/ holds pure deciders)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in ROOT.glob("services/*/domain/*.py")
    if path.name != "__init__.py"
)
PROBE = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(",".join(m for m in ("asyncpg", "aio_pika", "fastapi") if m in sys.modules))
"""


def test_every_domain_module_imports_without_asyncpg():
    assert len(DOMAIN_MODULES) > 30  # every service's domain package is found
    found = subprocess.run(
        [sys.executable, "-c", PROBE, *DOMAIN_MODULES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded = found.stdout.strip()
    assert "asyncpg" not in loaded.split(","), f"domain modules pulled in: {loaded}"
