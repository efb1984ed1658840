import ipaddress

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.policy import RestrictedQuerySet


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

    # ApiKey.objects.restrict(actor, action): portal.api.permissions.ApiKeyPolicy.
    objects = RestrictedQuerySet.as_manager()

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


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`, kept so that a repeat gets it again.

    A key belongs to one caller: the API key that sent it, or the session user when there is no
    API key. `fingerprint` is a hash of method, path, query and body; the same key with another
    fingerprint is refused. While the first request runs the record is `running`; then it holds
    the answer (status, content type, body and the headers that matter). Records expire after
    PORTAL_IDEMPOTENCY_TTL and a periodic sweep deletes them.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Answered")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("API key"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=2000)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.RUNNING)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=200, blank=True)
    # None: the answer was streamed and could not be kept (no API POST streams today).
    body = models.BinaryField(_("body"), null=True, blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    completed_at = models.DateTimeField(_("answered"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "key"],
                condition=models.Q(api_key__isnull=False),
                name="idempotency_key_per_api_key",
            ),
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=models.Q(api_key__isnull=True),
                name="idempotency_key_per_session_user",
            ),
        ]

    def __str__(self):
        return f"{self.method} {self.path} ({self.key[:40]})"


class ApiKeyRateWindow(models.Model):
    """How many calls one API key made in one fixed window; the database side of the rate limit.

    Used when there is no Redis cache, or while it does not answer (portal/api/throttling.py).
    `window_start` is in seconds since the epoch, aligned to `window_seconds`.
    """

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    window_seconds = models.PositiveIntegerField()
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "window_seconds", "window_start"], name="api_key_rate_window_unique"
            )
        ]
        indexes = [models.Index(fields=["window_start"], name="api_key_rate_window_start_idx")]

    def __str__(self):
        return f"{self.api_key_id}@{self.window_start}+{self.window_seconds}: {self.hits}"
