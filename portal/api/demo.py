"""Demo data: one read-only API key for broker1, printed once, so the API can be tried at once."""

from django.conf import settings
from django.contrib.auth import get_user_model

from .models import ApiKey
from .scopes import scope_group_get
from .services import api_key_create

DEMO_KEY_NAME = "Demo integration"
DEMO_SCOPES = {"account": "read", "clients": "read", "commissions": "read", "reports": "write"}


def demo_step(*, scale: str, stdout) -> None:
    broker = get_user_model().objects.filter(email="broker1@example.com").first()
    if broker is None:
        return
    if ApiKey.objects.filter(owner=broker, name=DEMO_KEY_NAME).exists():
        stdout.write("  demo API key for broker1 exists (its secret was printed when it was made)")
        return
    # Run by the operator at the console, not from a web session: there is no second factor to ask.
    _, secret = api_key_create(
        actor=broker,
        second_factor_verified=True,
        name=DEMO_KEY_NAME,
        scopes={group: access for group, access in DEMO_SCOPES.items() if scope_group_get(group)},
    )
    stdout.write(
        f"  demo API key for broker1 (shown once): {secret}\n"
        f"  try: curl -H 'Authorization: Api-Key {secret}' {settings.PORTAL_BASE_URL.rstrip('/')}/api/v1/clients/"
    )
