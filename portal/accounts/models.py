from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import ROLE_PRECEDENCE, ROLES_REQUIRING_2FA, Role


class Organisation(models.Model):
    """A firm a user works for: a broker firm, a partner, a merchant, an exchange member."""

    class Kind(models.TextChoices):
        OPERATOR = "operator", _("Operator")
        BROKER_FIRM = "broker_firm", _("Broker firm")
        PARTNER = "partner", _("Partner")
        MERCHANT = "merchant", _("Merchant")
        EXCHANGE_MEMBER = "exchange_member", _("Exchange member")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who logs in. The e-mail address is the login."""

    username = None
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail address"), unique=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True, help_text=_("E.164, e.g. +4915112345678"))
    phone_verified_at = models.DateTimeField(_("phone verified"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.email

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._phone_as_loaded = user.__dict__.get("phone")
        return user

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None or "phone" in fields:
            self._phone_as_loaded = self.__dict__.get("phone")

    def save(self, *args, **kwargs):
        # A verification proves one number: another number starts unverified however it was
        # changed (the profile, admin, a shell), so signing never sends a code to an unproven number.
        loaded = getattr(self, "_phone_as_loaded", None)
        update_fields = kwargs.get("update_fields")
        saves_phone = update_fields is None or "phone" in update_fields
        if saves_phone and loaded is not None and self.phone != loaded and self.phone_verified_at is not None:
            self.phone_verified_at = None
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "phone_verified_at"}
        super().save(*args, **kwargs)
        if saves_phone:
            self._phone_as_loaded = self.phone

    @property
    def phone_verified(self) -> bool:
        """Whether the current mobile number was proven with an SMS code (signing needs it)."""
        return bool(self.phone) and self.phone_verified_at is not None

    @cached_property
    def roles(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def managed_firm_id(self) -> int | None:
        """The firm this user manages (a firm manager with an organisation), else None."""
        if self.organisation_id and Role.FIRM_MANAGER in self.roles:
            return self.organisation_id
        return None

    @property
    def primary_role(self) -> str | None:
        for role in ROLE_PRECEDENCE:
            if role in self.roles:
                return role
        return None

    @property
    def primary_role_label(self) -> str:
        role = self.primary_role
        return Role(role).label if role else ""

    @cached_property
    def second_factor_devices(self) -> tuple:
        """The user's confirmed second-factor devices (an authenticator app, recovery codes)."""
        from django_otp import devices_for_user

        return tuple(devices_for_user(self, confirmed=True))

    def forget_cached_state(self) -> None:
        """Drop roles and devices computed on this object (after changing them within a request)."""
        self.__dict__.pop("roles", None)
        self.__dict__.pop("second_factor_devices", None)

    @property
    def needs_second_factor(self) -> bool:
        return self.is_staff or bool(self.roles & ROLES_REQUIRING_2FA)

    @property
    def masked_phone(self) -> str:
        if len(self.phone) < 6:
            return ""
        return self.phone[:3] + "•" * (len(self.phone) - 6) + self.phone[-3:]


class PhoneVerification(models.Model):
    """One round of proving a mobile number: a code sent to it by SMS and typed back in time.

    Only a keyed hash of the code is stored (`portal.accounts.phone_verification`); the SMS carries
    the code as its outbox row's sealed secret, destroyed when the round ends.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        VERIFIED = "verified", _("Verified")
        EXPIRED = "expired", _("Expired")
        DEAD = "dead", _("Too many wrong codes")
        VOID = "void", _("Void")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="phone_verifications",
    )
    phone = models.CharField(_("mobile phone"), max_length=20)
    code_hash = models.CharField(_("code hash"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    code_issued_at = models.DateTimeField(_("code issued"), default=timezone.now)
    sends = models.PositiveSmallIntegerField(_("SMS sent"), default=0)
    failed_attempts = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("phone verification")
        verbose_name_plural = _("phone verifications")
        indexes = [models.Index(fields=["status", "code_issued_at"], name="phoneverif_status_idx")]
        constraints = [
            # One round at a time per user: a second "send me a code" resends within the same round.
            models.UniqueConstraint(fields=["user"], condition=Q(status="active"), name="phoneverif_one_active"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.phone} {self.status}"


class PhoneCodeSend(models.Model):
    """One verification SMS: counts against the resend and daily limits, and links its outbox row."""

    verification = models.ForeignKey(
        PhoneVerification, verbose_name=_("phone verification"), on_delete=models.CASCADE, related_name="code_sends"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    phone = models.CharField(_("mobile phone"), max_length=20)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    outbox_message = models.ForeignKey(
        "notifications.OutboxMessage",
        verbose_name=_("SMS"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("verification SMS")
        verbose_name_plural = _("verification SMS")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="phonesend_user_idx"),
            models.Index(fields=["phone", "-created_at"], name="phonesend_phone_idx"),
        ]

    def __str__(self):
        return f"{self.phone} {self.created_at:%Y-%m-%d %H:%M}"


class UserSession(models.Model):
    """A signed-in session of a user: where and on what it was used, for "active sessions".

    Bound to Django's session row, so it goes when the session ends (logout, expiry sweep,
    "sign out everywhere else", a new key after login or the second factor).
    """

    session = models.OneToOneField(
        "sessions.Session", verbose_name=_("session"), on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="signed_in_sessions"
    )
    created_at = models.DateTimeField(_("signed in"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last active"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=400, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("signed-in session")
        verbose_name_plural = _("signed-in sessions")
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="usersession_user_idx")]

    def __str__(self):
        return f"{self.user_id} {self.ip or ''}"
