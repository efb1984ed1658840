import pytest

from portal.api import services


def key_for(user, scopes=None, **fields):
    """A key made through the service, as a verified session would; returns (key, secret)."""
    return services.api_key_create(
        actor=user,
        second_factor_verified=True,
        name=fields.pop("name", "ERP"),
        scopes={"clients": "read"} if scopes is None else scopes,
        **fields,
    )


def auth(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Api-Key {secret}"}


@pytest.fixture
def api_client():
    """A test client without a session: only the key authenticates."""
    from django.test import Client

    return Client()


# The broker workspace's small valued book.
from tests.intermediaries.conftest import market, workspace  # noqa: E402, F401
