"""A newcomer without Debian's Chromium is told at once how to install it; the browser tests never skip."""

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import conftest as root

from . import conftest as e2e

ROOT = Path(__file__).resolve().parents[2]
HOW_TO_INSTALL = "sudo apt-get install -y chromium"


def outside_make() -> dict:
    return {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}


def test_make_test_stops_before_anything_else_when_chromium_is_missing(tmp_path):
    missing = tmp_path / "chromium"

    result = subprocess.run(
        ["make", "test", f"CHROMIUM={missing}", "PYTEST_ARGS=--version"],
        cwd=ROOT,
        env=outside_make(),
        capture_output=True,
        text=True,
    )

    assert result.returncode == 2
    assert f"The browser tests need Debian's Chromium at {missing}, and it is missing." in result.stderr
    assert HOW_TO_INSTALL in result.stderr
    assert result.stdout == ""  # stopped before make echoed a single command of install, assets or pytest


def test_make_check_chromium_passes_when_it_is_there():
    result = subprocess.run(["make", "check-chromium"], cwd=ROOT, env=outside_make(), capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")


def item(marker: str | None):
    return SimpleNamespace(get_closest_marker=lambda name: object() if name == marker else None)


def test_collected_browser_tests_without_chromium_stop_the_run_with_the_same_words(monkeypatch, tmp_path):
    monkeypatch.setattr(root, "CHROMIUM", str(tmp_path / "chromium"))

    with pytest.raises(pytest.UsageError) as refused:
        e2e.pytest_collection_modifyitems(config=None, items=[item(None), item("e2e")])

    assert f"Debian's Chromium at {tmp_path / 'chromium'}, and it is missing" in str(refused.value)
    assert HOW_TO_INSTALL in str(refused.value)


def test_without_browser_tests_selected_the_run_goes_on(monkeypatch, tmp_path):
    monkeypatch.setattr(root, "CHROMIUM", str(tmp_path / "chromium"))
    items = [item(None), item("worker")]

    e2e.pytest_collection_modifyitems(config=None, items=items)

    assert len(items) == 2


def test_a_file_that_is_no_executable_counts_as_missing(monkeypatch, tmp_path):
    not_executable = tmp_path / "chromium"
    not_executable.write_text("#!/bin/sh\n")
    monkeypatch.setattr(root, "CHROMIUM", str(not_executable))
    assert HOW_TO_INSTALL in root.chromium_missing()

    not_executable.chmod(0o755)
    assert root.chromium_missing() == ""
