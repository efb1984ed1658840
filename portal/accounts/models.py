from functools import cached_property

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
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
