"""Writes of SEPA direct debit mandates: a shopper grants one (checked IBAN) or revokes it.

The checks are the pain.008 file's own (`collections.sepa`), so a mandate that is stored can be
collected from: an IBAN in the SEPA zone with valid check digits, an optional BIC, a holder's
name that survives transliteration.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from schwifty import IBAN

from portal.audit.services import audit_record

from .collections.sepa import bic_problem, iban_problem, latin
from .models import SepaMandate, Shopper

MANDATE_PREFIX = "PZM-"


def _mandate_reference() -> str:
    # Upper-case letters and digits only: inside the SEPA character set, unambiguous on the phone.
    return MANDATE_PREFIX + get_random_string(16, allowed_chars="ABCDEFGHJKLMNPQRSTUVWXYZ23456789")


def mandate_grant(*, actor, shopper: Shopper, iban: str, account_holder: str, bic: str = "") -> SepaMandate:
    """The shopper's new active mandate; an earlier active one is revoked in the same transaction.

    Only the shopper grants their own mandate (back office and merchants never do).
    """
    if actor is None or actor.pk != shopper.user_id:
        raise PermissionDenied
    errors = {}
    compact = "".join(str(iban or "").split()).upper()
    problem = iban_problem(compact)
    if problem:
        errors["iban"] = _("The IBAN is not valid: %(problem)s") % {"problem": problem}
    holder = " ".join(str(account_holder or "").split())
    if not holder or not latin(holder):
        errors["account_holder"] = _("Enter the account holder's name.")
    elif len(holder) > 70:
        errors["account_holder"] = _("The account holder's name has at most 70 characters.")
    bic = "".join(str(bic or "").split()).upper()
    if bic and (problem := bic_problem(bic)):
        errors["bic"] = _("The BIC is not valid: %(problem)s") % {"problem": problem}
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        # The shopper's row serialises two grants at once (one active mandate per shopper).
        Shopper.objects.select_for_update().filter(pk=shopper.pk).first()
        for old in SepaMandate.objects.select_for_update().filter(shopper=shopper, state=SepaMandate.State.ACTIVE):
            _revoke(old, actor=actor, now=now, why="replaced")
        mandate = SepaMandate.objects.create(
            shopper=shopper,
            reference=_mandate_reference(),
            account_holder=holder,
            iban=str(IBAN(compact)).replace(" ", ""),
            bic=bic,
            signed_at=now,
        )
        audit_record(
            action="bnpl.mandate_granted",
            actor=actor,
            obj=mandate,
            changes={"reference": mandate.reference, "iban": mandate.masked_iban},
        )
    return mandate


def mandate_revoke(*, actor, mandate_id: int) -> SepaMandate:
    """The shopper withdraws their mandate; instalments due later need a new one to be collected."""
    with transaction.atomic():
        mandate = SepaMandate.objects.select_for_update().select_related("shopper").filter(pk=mandate_id).first()
        if mandate is None or actor is None or mandate.shopper.user_id != actor.pk:
            raise PermissionDenied
        if mandate.state != SepaMandate.State.ACTIVE:
            raise ValidationError(_("This mandate is already revoked."), code="revoked")
        _revoke(mandate, actor=actor, now=timezone.now(), why="revoked")
    return mandate


def active_mandate(shopper: Shopper) -> SepaMandate | None:
    return SepaMandate.objects.filter(shopper=shopper, state=SepaMandate.State.ACTIVE).first()


def _revoke(mandate: SepaMandate, *, actor, now, why: str) -> None:
    mandate.state = SepaMandate.State.REVOKED
    mandate.revoked_at = now
    mandate.save(update_fields=["state", "revoked_at"])
    audit_record(
        action="bnpl.mandate_revoked",
        actor=actor,
        obj=mandate,
        changes={"state": [SepaMandate.State.ACTIVE, SepaMandate.State.REVOKED], "why": why},
    )
