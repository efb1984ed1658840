"""Readers that one app offers to another it may not import (siblings on one layer).

The app that owns the data registers a function in its AppConfig.ready() under a name it
documents; the app that needs it asks for it by that name at call time:

    provide("commissions.disclosure", accruals_for_disclosure)   # commissions/apps.py
    provider("commissions.disclosure")(start=…, end=…)           # reports/documents.py

The kernel only keeps the table: it knows no app and no domain.
"""

from collections.abc import Callable

_providers: dict[str, Callable] = {}


class ProviderMissing(LookupError):
    """No installed app offers the reader asked for."""


def provide(name: str, function: Callable) -> None:
    _providers[name] = function


def provider(name: str) -> Callable:
    try:
        return _providers[name]
    except KeyError:
        raise ProviderMissing(
            f"No installed app provides {name!r}; is the app that owns it in INSTALLED_APPS?"
        ) from None
