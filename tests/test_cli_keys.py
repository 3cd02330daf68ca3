"""`waybill keys create | list | revoke` on a real (SQLite) database built by the migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("WAYBILL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WAYBILL_DATABASE_URL", raising=False)
    return CliRunner()


def test_create_list_and_revoke_a_scoped_key(runner: CliRunner) -> None:
    created = runner.invoke(app, ["keys", "create", "--role", "integration", "--name", "wms-east",
                                  "--event-types", "picked,confirmed", "--customers", "C-1",
                                  "--expires-in-days", "30"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("wb_")

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0, listed.output
    [row] = [line for line in listed.stdout.splitlines() if "wms-east" in line]
    assert "integration" in row and "confirmed,picked" in row and "C-1" in row
    assert "active" in row and key not in listed.stdout and key[:10] in row

    revoked = runner.invoke(app, ["keys", "revoke", "wms-east"])
    assert revoked.exit_code == 0, revoked.output
    [row] = [line for line in runner.invoke(app, ["keys", "list"]).stdout.splitlines()
             if "wms-east" in line]
    assert "revoked" in row
    again = runner.invoke(app, ["keys", "revoke", "wms-east"])  # no active key of that name
    assert again.exit_code != 0


def test_a_scope_on_a_staff_key_is_refused(runner: CliRunner) -> None:
    refused = runner.invoke(app, ["keys", "create", "--role", "operator", "--name", "desk",
                                  "--customers", "C-1"])
    assert refused.exit_code != 0 and "scope_needs_integration" in refused.output
    unknown = runner.invoke(app, ["keys", "create", "--role", "integration", "--name", "x",
                                  "--event-types", "teleported"])
    assert unknown.exit_code != 0


def test_an_ambiguous_prefix_revokes_nothing(runner: CliRunner) -> None:
    for name in ("a", "b"):
        assert runner.invoke(app, ["keys", "create", "--role", "operator",
                                   "--name", name]).exit_code == 0
    ambiguous = runner.invoke(app, ["keys", "revoke", "wb_"])
    assert ambiguous.exit_code != 0
    listed = runner.invoke(app, ["keys", "list"]).stdout
    assert listed.count(" active ") == 2
