from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The kernel's leaf: cache, policies, lists, uploads, registries. It imports nothing of the portal."""

    name = "portal.core"
    label = "core"
    verbose_name = _("Portal core")
