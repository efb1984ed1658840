from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BnplConfig(AppConfig):
    """Buy now, pay later: merchants and their checkout API, credit decisions, instalment plans,
    collections, fees and shipment tracking (seed 001)."""

    name = "bnpl"
    label = "bnpl"
    verbose_name = _("Buy now, pay later")
