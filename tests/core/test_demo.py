"""`make demo PORT=8123`: every link the demo prints or sends points at that port, none at 8000.

The whole demo with its e-mails runs in tests/e2e/test_console_clean.py (it needs half a minute);
here the command runs with the cheap step that prints a link, and make shows what it would run.
"""

import io
import os
import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from portal.api.demo import demo_step as api_key_demo_step
from portal.core import demo
from portal.notifications.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://127.0.0.1:8123"


@pytest.mark.django_db
def test_the_demo_prints_its_links_from_the_base_url(settings, monkeypatch):
    settings.PORTAL_BASE_URL = BASE
    [api_key_step] = [step for step in demo.steps() if step.run is api_key_demo_step]
    monkeypatch.setattr(demo, "_steps", {api_key_step.name: api_key_step})
    out = io.StringIO()

    call_command("demo", stdout=out)

    printed = out.getvalue()
    assert re.search(rf"curl -H 'Authorization: Api-Key pzk_\S+' {BASE}/api/v1/clients/\n", printed)
    assert f"Log in at {BASE}/accounts/login/ with any demo e-mail" in printed
    assert set(re.findall(r"https?://[^/\s]+", printed)) == {BASE}
    sent = OutboxMessage.objects.values_list("body", "html_body")
    assert sent, "the demo cast gets its welcome e-mails"
    assert not [text for pair in sent for text in pair if ":8000" in text]


def test_the_demo_modules_name_no_address_of_their_own():
    """Printed links come from settings.PORTAL_BASE_URL, never from a literal in a demo step."""
    sources = [
        *ROOT.glob("*/demo.py"),
        *ROOT.glob("portal/*/demo.py"),
        ROOT / "portal/shell/management/commands/demo.py",
    ]
    assert len(sources) >= 6
    assert [str(path) for path in sources if re.search(r"https?://|127\.0\.0\.1|:8000", path.read_text())] == []


def make_dry_run(*args: str) -> str:
    # Run outside any calling make and without a PORTAL_BASE_URL of the caller's shell.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PORTAL_BASE_URL"}}
    result = subprocess.run(["make", "-n", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return result.stdout


def test_make_demo_on_another_port_gives_that_port_to_every_step():
    commands = [line for line in make_dry_run("demo", "PORT=8123").splitlines() if "manage.py" in line]

    assert [line.split("manage.py ")[1] for line in commands] == [
        "migrate --noinput",
        "demo",
        "runserver 127.0.0.1:8123",
    ]
    assert all(f"PORTAL_BASE_URL={BASE} " in line for line in commands)
    assert not [line for line in commands if "8000" in line]


def test_make_demo_without_a_port_serves_and_links_8000():
    [serve] = [line for line in make_dry_run("demo").splitlines() if "manage.py runserver" in line]
    assert "PORTAL_BASE_URL=http://127.0.0.1:8000 " in serve
    assert serve.endswith("runserver 127.0.0.1:8000")
