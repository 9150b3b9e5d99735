"""``gradeline backfill``: the mistakes an operator can make are refused before any server is
contacted, with exit code 2 and a sentence, never a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ops.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["backfill", "nosuch", "--from", "enrollment"], "no consuming service 'nosuch'"),
        (["backfill", "enrollment", "--from", "training"], "no consuming service 'enrollment'"),
        (["backfill", "training", "--from", "nosuch"], "no producing service 'nosuch'"),
        (["backfill", "assessment", "--from", "compensation"], "assessment does not consume"),
        (["backfill", "assessment", "--from", "compensation"], "assessment does not consume"),
        (
            ["backfill", "assessment", "--from", "training", "--after", "9", "--through", "3"],
            "--through 3 is before --after 9",
        ),
    ],
)
def test_backfill_refuses_what_it_cannot_do_with_exit_code_2(arguments, said):
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2, result.output
    assert said in " ".join(result.output.split())
    assert "Traceback" not in result.output and not isinstance(result.exception, KeyError)
