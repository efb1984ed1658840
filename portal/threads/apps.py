from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ThreadsConfig(AppConfig):
    """Message threads attached to any object; who may read one is the owning app's decision."""

    name = "portal.threads"
    label = "threads"
    verbose_name = _("Messages")
