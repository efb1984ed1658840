"""The roles a portal user can hold. Each role is a Django group of the same name."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    INTERMEDIARY = "intermediary", _("Intermediary")
    FIRM_MANAGER = "firm_manager", _("Firm manager")
    CLIENT = "client", _("End client")
    BACKOFFICE = "backoffice", _("Back-office staff")
    PARTNER_AGENT = "partner_agent", _("Partner agent")
    MERCHANT = "merchant", _("Merchant")
    EXCHANGE_MEMBER = "exchange_member", _("Exchange member")
    COMPLIANCE = "compliance", _("Compliance")
    CREDIT_ANALYST = "credit_analyst", _("Credit analyst")
    ADMISSION = "admission", _("Admission")


# When a user holds several roles, the first one in this order decides their home page.
ROLE_PRECEDENCE = [
    Role.BACKOFFICE,
    Role.COMPLIANCE,
    Role.CREDIT_ANALYST,
    Role.ADMISSION,
    Role.FIRM_MANAGER,
    Role.INTERMEDIARY,
    Role.PARTNER_AGENT,
    Role.MERCHANT,
    Role.EXCHANGE_MEMBER,
    Role.CLIENT,
]

# Those who keep a client book: brokers and the managers of their firms.
BROKER_ROLES = frozenset({Role.INTERMEDIARY, Role.FIRM_MANAGER})
# Staff who see every firm's records (read), whatever the app.
OVERSIGHT_ROLES = frozenset({Role.BACKOFFICE, Role.COMPLIANCE})

# Everyone who works with other people's data must use a second factor.
ROLES_REQUIRING_2FA = frozenset(ROLE_PRECEDENCE) - {Role.CLIENT, Role.EXCHANGE_MEMBER}
