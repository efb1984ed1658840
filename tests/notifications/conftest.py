import pytest

from portal.notifications import registry
from tests.factories import UserFactory
from tests.fakes.fixtures import *  # noqa: F403 (the loopback fakes, private Redis and the worker)


@pytest.fixture
def event_registry():
    """Register test-only events freely; the registry is restored afterwards."""
    saved = dict(registry._events)
    yield registry
    registry._events.clear()
    registry._events.update(saved)


@pytest.fixture
def event_templates(settings, tmp_path, event_registry):
    """`event_templates("tests.probe", title="…", body="…")` writes templates for a test-only event."""
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]

    def write(key: str, **parts: str):
        folder = tmp_path / "notifications" / "events" / key
        folder.mkdir(parents=True, exist_ok=True)
        for part, text in parts.items():
            (folder / f"{part}.txt").write_text(text)
        return folder

    return write


@pytest.fixture
def anna(db):
    """A client with a phone, who has not touched her notification settings."""
    return UserFactory(email="anna@example.com", first_name="Anna", phone="+4915112345678", language="en")


@pytest.fixture
def ben(db):
    """A broker without a phone number."""
    return UserFactory(email="ben@example.com", first_name="Ben", phone="", language="en")
