"""The signed-in user of every request, read from the cache instead of three queries.

Each request needs the user, their roles and their confirmed second-factor devices (to know
whether the session is verified). Those change rarely, so the backend keeps them together in
the cache under the user's id (`portal.core.cache.cached_until_changed`). Any change to the user
row, their groups or their devices forgets the entry at once and again after the commit
(`signals.py`), so a deactivated user, a removed role or a deleted device takes effect on the very
next request; a reader that raced the change cannot write the old state back.
"""

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.core.cache import cache

from portal.core.cache import cached_until_changed, forget

SIGNED_IN_TIMEOUT = 3600


def signed_in_key(user_id) -> str:
    return f"accounts:signed-in:{user_id}"


def signed_in_user(user_id):
    """The user with `roles` and `second_factor_devices` loaded, or None if there is no such user."""

    def load():
        user = get_user_model()._default_manager.filter(pk=user_id).first()
        if user is not None:
            # Computed now so that they travel in the cached entry.
            user.roles  # noqa: B018
            user.second_factor_devices  # noqa: B018
        return user

    return cached_until_changed(cache, signed_in_key(user_id), load, timeout=SIGNED_IN_TIMEOUT)


def signed_in_forget(user_id) -> None:
    forget(cache, signed_in_key(user_id))


class PortalAuthenticationBackend(AuthenticationBackend):
    """allauth's e-mail login, with the signed-in user read through the cache."""

    def get_user(self, user_id):
        try:
            user = signed_in_user(int(user_id))
        except (TypeError, ValueError):
            return None
        return user if user is not None and self.user_can_authenticate(user) else None
