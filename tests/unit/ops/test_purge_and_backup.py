"""What ``gradeline purge`` keeps of each service's inbox (ADR 0020), and the backup's manifest
and commands, offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ops import backup, purge, services
from ops.cli import app
from services.assessment.projections import TRAINER_BOARD
from services.compensation.feed import BRANCH_FEED
from shared.erasure import ERASED_TYPE
from shared.topology import CONSUMERS

runner = CliRunner()


def test_training_keeps_every_payload_while_its_progress_board_replays_every_type() -> None:
    retention = purge.inbox_retention(services.get("training"))
    assert retention.read_types is None
    assert not retention.purges_anything


def test_assessment_keeps_its_boards_types_the_erasures_and_everything_about_a_trainee() -> None:
    retention = purge.inbox_retention(services.get("assessment"))
    assert TRAINER_BOARD.types is not None
    assert retention.read_types is not None
    assert TRAINER_BOARD.types | {ERASED_TYPE} <= retention.read_types
    assert retention.subject_field == "trainee_id"  # the audit replays them


def test_compensation_keeps_what_its_branch_feed_and_erasure_list_replay() -> None:
    retention = purge.inbox_retention(services.get("compensation"))
    assert BRANCH_FEED.types is not None
    assert retention.read_types == BRANCH_FEED.types | {ERASED_TYPE}
    assert retention.subject_field is None  # no audit in compensation


@pytest.mark.parametrize("info", services.available(), ids=lambda i: i.name)
def test_every_type_a_projection_replays_from_the_inbox_is_kept(info) -> None:
    retention = purge.inbox_retention(info)
    for projection in info.projections:
        if "inbox" in projection.sources and retention.read_types is not None:
            assert projection.types is not None and projection.types <= retention.read_types


def test_the_backup_pairs_are_the_topology() -> None:
    expected = {
        (consumer, key.split(".")[0]) for consumer, keys in CONSUMERS.items() for key in keys
    }
    assert set(backup.pairs()) == expected
    assert set(backup.SNAPSHOT_ORDER) == set(backup.SERVICES)


def test_a_manifest_reads_back_as_written(tmp_path: Path) -> None:
    manifest = backup.Manifest(
        "gl",
        "2026-12-06T21:00:00+00:00",
        2,
        {"training": 130},
        {"training": 124},
        {"training": "training.dump", "keys": "keys.dump"},
        [backup.Catchup("assessment", "training", 126, 130, 4)],
    )
    (tmp_path / backup.MANIFEST).write_text(manifest.to_json())
    assert backup.Manifest.read(tmp_path) == manifest


def test_a_manifest_of_another_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / backup.MANIFEST).write_text('{"format": 99}')
    with pytest.raises(backup.BackupFailed, match="not a backup of this format"):
        backup.Manifest.read(tmp_path)


def test_purge_refuses_an_unknown_service() -> None:
    result = runner.invoke(app, ["purge", "payroll"])
    assert result.exit_code == 2
    assert "no service 'payroll'" in result.output


def test_restore_of_a_directory_without_a_manifest_fails_and_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["restore", str(tmp_path)])
    assert result.exit_code == 1
    assert "restore failed" in result.output


def test_a_cut_is_consistent_when_no_consumer_holds_what_its_producer_lacks() -> None:
    positions = {"training": {1, 2, 3, 5}, "assessment": {1, 2}}
    held = {("assessment", "training"): {1, 3, None}, ("training", "assessment"): {1, 2}}

    heads, catchups, ghosts = backup.judge_cut(positions, held)

    assert heads == {"training": 5, "assessment": 2}
    assert ghosts == []
    # assessment lacks 2 and 5 of training's: back-filled after 1, through 5; training lacks none.
    assert catchups == [
        backup.Catchup("assessment", "training", 1, 5, 2),
        backup.Catchup("training", "assessment", 2, 2, 0),
    ]


def test_a_consumer_holding_an_event_beyond_its_producers_cut_is_a_ghost() -> None:
    _, _, ghosts = backup.judge_cut(
        {"training": {1, 2}, "assessment": {1}}, {("assessment", "training"): {1, 2, 3}}
    )
    assert ghosts == ["assessment holds 1 training events beyond its cut"]
