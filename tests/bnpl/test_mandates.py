"""SEPA mandates: a shopper grants one with a checked IBAN; one active per shopper; only their own."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bnpl.mandates import active_mandate, mandate_grant, mandate_revoke
from bnpl.models import SepaMandate
from portal.audit.models import AuditEvent

from .factories import ShopperFactory

pytestmark = pytest.mark.django_db

GOOD_IBAN = "DE89 3704 0044 0532 0130 00"  # the IBAN standard's own German example


def test_granting_stores_the_compact_iban_and_a_sepa_reference(cast):
    shopper = ShopperFactory(user=cast.client2)
    mandate = mandate_grant(actor=cast.client2, shopper=shopper, iban=GOOD_IBAN.lower(), account_holder=" Anna  Weber ")
    assert mandate.iban == "DE89370400440532013000"
    assert mandate.account_holder == "Anna Weber"
    assert mandate.reference.startswith("PZM-") and len(mandate.reference) <= 35
    assert mandate.sequence == "FRST"
    assert mandate.masked_iban == "DE89 •••• 3000"
    assert AuditEvent.objects.filter(action="bnpl.mandate_granted").count() == 1


def test_a_new_mandate_revokes_the_old_one(cast):
    shopper = ShopperFactory(user=cast.client2)
    first = mandate_grant(actor=cast.client2, shopper=shopper, iban=GOOD_IBAN, account_holder="Anna Weber")
    second = mandate_grant(
        actor=cast.client2, shopper=shopper, iban="AT611904300234573201", account_holder="Anna Weber"
    )
    first.refresh_from_db()
    assert first.state == SepaMandate.State.REVOKED and first.revoked_at is not None
    assert active_mandate(shopper) == second


@pytest.mark.parametrize(
    ("iban", "holder", "bic", "field"),
    [
        ("DE89370400440532013001", "Anna Weber", "", "iban"),  # check digits wrong
        ("US12345678901234567890", "Anna Weber", "", "iban"),  # not an IBAN country
        (GOOD_IBAN, "   ", "", "account_holder"),
        (GOOD_IBAN, "Anna Weber", "NOTABIC", "bic"),
    ],
)
def test_bad_details_are_refused_and_nothing_is_stored(cast, iban, holder, bic, field):
    shopper = ShopperFactory(user=cast.client2)
    with pytest.raises(ValidationError) as refused:
        mandate_grant(actor=cast.client2, shopper=shopper, iban=iban, account_holder=holder, bic=bic)
    assert field in refused.value.message_dict
    assert not SepaMandate.objects.exists()


def test_only_the_shopper_grants_and_revokes_their_mandate(cast):
    shopper = ShopperFactory(user=cast.client2)
    with pytest.raises(PermissionDenied):
        mandate_grant(actor=cast.client3, shopper=shopper, iban=GOOD_IBAN, account_holder="Anna Weber")
    mandate = mandate_grant(actor=cast.client2, shopper=shopper, iban=GOOD_IBAN, account_holder="Anna Weber")
    with pytest.raises(PermissionDenied):
        mandate_revoke(actor=cast.client3, mandate_id=mandate.pk)
    mandate_revoke(actor=cast.client2, mandate_id=mandate.pk)
    with pytest.raises(ValidationError):
        mandate_revoke(actor=cast.client2, mandate_id=mandate.pk)


def test_the_policy_shows_a_shopper_only_their_own_mandates(cast):
    mine = ShopperFactory(user=cast.client2)
    theirs = ShopperFactory(user=cast.client3)
    own = mandate_grant(actor=cast.client2, shopper=mine, iban=GOOD_IBAN, account_holder="Anna Weber")
    mandate_grant(actor=cast.client3, shopper=theirs, iban=GOOD_IBAN, account_holder="Boris Iwanow")
    assert list(SepaMandate.objects.restrict(cast.client2)) == [own]
    assert SepaMandate.objects.restrict(cast.merchant).count() == 0


def test_back_office_reads_mandates_in_admin_with_the_iban_masked_and_changes_none(cast, login_as):
    from django.urls import reverse

    shopper = ShopperFactory(user=cast.client2)
    mandate = mandate_grant(actor=cast.client2, shopper=shopper, iban=GOOD_IBAN, account_holder="Anna Weber")
    client = login_as(cast.backoffice)

    listing = client.get(reverse("admin:bnpl_sepamandate_changelist")).content.decode()
    assert mandate.reference in listing and "DE89 •••• 3000" in listing
    assert "DE89370400440532013000" not in listing
    assert client.get(reverse("admin:bnpl_sepamandate_add")).status_code == 403
    client.post(reverse("admin:bnpl_sepamandate_change", args=[mandate.pk]), {"account_holder": "Someone Else"})
    mandate.refresh_from_db()
    assert mandate.account_holder == "Anna Weber"
    assert login_as(cast.merchant).get(reverse("admin:bnpl_sepamandate_changelist")).status_code in (302, 403)
