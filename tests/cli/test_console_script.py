"""The installed `etims-pipeline` console script exposes every subcommand the README documents."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from etims_pipeline.cli.main import main

SUBCOMMANDS = [
    "migrate",
    "load",
    "demo-data",
    "sandbox",
    "metrics",
    "dev",
    "backfill-kpis",
    "submit-invoices",
    "serve",
]


def _script() -> str:
    found = shutil.which("etims-pipeline", path=str(Path(sys.executable).parent))
    assert found, "the etims-pipeline console script is not installed in this environment"
    return found


def test_top_level_help_lists_every_subcommand() -> None:
    result = subprocess.run([_script(), "--help"], capture_output=True, text=True, check=True, timeout=60)
    for name in SUBCOMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    assert f"etims-pipeline {name}" in capsys.readouterr().out


def test_an_unknown_subcommand_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
