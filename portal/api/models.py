import ipaddress

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A personal API key: the owner's permissions, narrowed to some resource groups.

    Only a hash of the secret is stored; `prefix` is the visible, unique start of the key
    (`pzk_ab12cd34`) by which it is found and shown. A rotated key points to its successor and
    keeps working until its (shortened) expiry, the grace period.
    """

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        ROTATING = "rotating", _("Replaced, still valid")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(_("hashed key"), max_length=200, editable=False)
    # {"clients": "read", "commissions": "write"}: groups from portal.api.scopes.
    scopes = models.JSONField(_("scopes"), default=dict)
    # Addresses or networks the key may be used from; empty means anywhere.
    allowed_ips = models.JSONField(_("allowed IP addresses"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    rotated_at = models.DateTimeField(_("rotated"), null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self",
        verbose_name=_("replaced by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replaces",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        indexes = [models.Index(fields=["owner", "-created_at"], name="apikey_owner_created_idx")]

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return self.State.EXPIRED
        if self.replaced_by_id is not None:
            return self.State.ROTATING
        return self.State.ACTIVE

    def state_label(self) -> str:
        return self.State(self.state()).label

    def is_usable(self, now=None) -> bool:
        return self.state(now) in (self.State.ACTIVE, self.State.ROTATING)

    def ip_allowed(self, ip: str | None) -> bool:
        if not self.allowed_ips:
            return True
        if not ip:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(network, strict=False) for network in self.allowed_ips)
