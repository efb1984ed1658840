from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message shown to one user inside the portal (the bell and the notification list)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    event = models.CharField(_("event type"), max_length=64)
    # What the event's texts need (texts.py renders them when shown, in the reader's language).
    # None on rows written before parameters were kept: those show the title and text as written.
    params = models.JSONField(_("parameters"), null=True, blank=True)
    # The texts as rendered when written, in the recipient's language of that moment.
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    link_url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # The same logical notification (e.g. a retried service call) is stored only once.
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notif_user_unread_idx")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def title_display(self) -> str:
        """The title in the language active now (the reader's)."""
        return self._texts()[0]

    @property
    def body_display(self) -> str:
        return self._texts()[1]

    def _texts(self) -> tuple[str, str]:
        from django.utils.translation import get_language

        from .texts import notification_texts

        cache = self.__dict__.setdefault("_texts_by_language", {})
        language = get_language()
        if language not in cache:
            cache[language] = notification_texts(self)
        return cache[language]


class NotificationPreference(models.Model):
    """Which channels one user wants for one event type; without a row the event's defaults apply."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    event = models.CharField(_("event type"), max_length=64)
    in_app = models.BooleanField(_("in the portal"), default=True)
    email = models.BooleanField(_("e-mail"), default=True)
    sms = models.BooleanField(_("SMS"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "event"], name="notif_pref_user_event_uniq")]
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return f"{self.user} · {self.event}"


class OutboxMessage(models.Model):
    """One e-mail or SMS to deliver, written in the same transaction as the change that causes it.

    A worker claims a pending row with a conditional UPDATE, so two workers never send the same
    row; `send_started_at` tells a crash before the provider call (safe to retry) from one during
    it (outcome unknown, never resent automatically).
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254, help_text=_("E-mail address or E.164 phone number"))
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"))
    html_body = models.TextField(_("HTML text"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbox_messages",
    )
    event = models.CharField(_("event type"), max_length=64, blank=True)
    # A notification's parameters and link: its text is rendered again in the recipient's language
    # when it is sent (texts.outbox_texts_now). None: the text as written is sent.
    params = models.JSONField(_("parameters"), null=True, blank=True)
    link_url = models.CharField(_("link"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    send_started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=255, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True, unique=True)
    # The secret part (a one-time code): sealed here, filled into the text's placeholder only by the
    # transport, and dropped in the same UPDATE that records the hand-over (see sealed.py).
    secret = models.TextField(_("sealed secret"), blank=True, default="")
    secret_wiped_at = models.DateTimeField(_("secret destroyed"), null=True, blank=True)
    send_before = models.DateTimeField(
        _("send before"), null=True, blank=True, help_text=_("Not sent after this time: by then it is of no use.")
    )
    # A keyed digest of the text as handed to the provider, to recognise the provider's copy later.
    text_digest = models.CharField(_("digest of the text sent"), max_length=64, blank=True)
    # The last time the provider was asked about a message whose outcome was unknown, and its answer.
    provider_checked_at = models.DateTimeField(_("provider asked"), null=True, blank=True)
    provider_check = models.CharField(_("provider's answer"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due_idx"),
            models.Index(fields=["-created_at"], name="outbox_created_idx"),
            # The sweep looks for sealed secrets past their time; there are only ever a few.
            models.Index(fields=["send_before"], condition=~Q(secret=""), name="outbox_secret_due_idx"),
        ]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")

    def __str__(self):
        return f"{self.get_channel_display()} → {self.recipient}"

    @property
    def carries_secret(self) -> bool:
        """Whether the text has a secret part, held now or destroyed already."""
        return bool(self.secret) or self.secret_wiped_at is not None

    @property
    def secret_lost(self) -> bool:
        """The secret part is gone, so the message can no longer be sent as written."""
        return not self.secret and self.secret_wiped_at is not None

    @property
    def body_display(self) -> str:
        """The text for staff and the dev outbox: a secret part shows as a mask, never in clear."""
        from .sealed import text_mask

        return text_mask(self.body) if self.carries_secret else self.body


class DevDelivery(models.Model):
    """What the dev transport "delivered": the demo's stand-in for the provider's copy of a message.

    It holds the text as sent, secret included, as the provider would; the owner destroying the
    secret masks it here too.
    """

    message = models.OneToOneField(
        OutboxMessage,
        verbose_name=_("outbox message"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="dev_delivery",
    )
    body = models.TextField(_("text"))
    html_body = models.TextField(_("HTML text"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), default=timezone.now)

    class Meta:
        verbose_name = _("dev delivery")
        verbose_name_plural = _("dev deliveries")

    def __str__(self):
        return str(self.message_id)


class OutboxAttachment(models.Model):
    """A file that goes with an outbox e-mail, rendered when the mail leaves (never for an SMS).

    The row keeps only which registered renderer makes the file and its parameters (attachments.py):
    like the text, the file is made at delivery in the recipient's language, every retry makes it
    again, and no copy of a document lies in the outbox.
    """

    message = models.ForeignKey(
        OutboxMessage, verbose_name=_("outbox message"), on_delete=models.CASCADE, related_name="attachments"
    )
    renderer = models.CharField(_("renderer"), max_length=64)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    filename = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(_("content type"), max_length=100, default="application/pdf")
    # The size of the file when it last left (0 until then), to show and to watch the limit.
    size = models.PositiveIntegerField(_("size in bytes"), default=0)

    class Meta:
        ordering = ["message", "id"]
        verbose_name = _("outbox attachment")
        verbose_name_plural = _("outbox attachments")

    def __str__(self):
        return self.filename
