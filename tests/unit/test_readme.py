"""The README's configuration table is the operators' reference: every setting the services read
is in it, under the environment variable that sets it."""

from __future__ import annotations

from pathlib import Path

from shared.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme_configuration_table():
    rows = [line for line in README.splitlines() if line.startswith("| `GRADELINE_")]
    documented = {line.split("`")[1] for line in rows}
    expected = {f"GRADELINE_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set(), "settings missing from the README's table"
    assert documented - expected == set(), "the README documents settings that do not exist"
