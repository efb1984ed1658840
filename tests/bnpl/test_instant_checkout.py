"""An instant purchase through the hosted checkout: the shop's server confirms before anything is
signed or placed; a decline places nothing and leaves the code unused."""

import pytest
from django.core.exceptions import ValidationError

from bnpl import checkout
from bnpl.models import MerchantConfirmation, Order, PaymentSession
from signing.models import SignatureRequest

from .test_checkout import code_for, ready_to_sign
from .test_instant_purchase import button, buy, merchant_server, with_callback  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def accept(session, user, content_hash, code, option="monthly_3"):
    return checkout.checkout_accept(
        actor=user, session_id=session.pk, option_key=option, content_hash=content_hash, code=code
    )


def test_a_declining_shop_stops_the_purchase_before_the_signature(shops, cast, button, merchant_server):  # noqa: F811
    with_callback(shops, merchant_server.url)
    merchant_server.decide("decline", reason="Out of stock")
    session = buy(cast, button)
    content_hash = ready_to_sign(session, cast.client2, option="monthly_3")
    code = code_for(session, cast.client2, content_hash)

    with pytest.raises(ValidationError, match="Out of stock"):
        accept(session, cast.client2, content_hash, code)

    session.refresh_from_db()
    assert session.state == PaymentSession.State.OPEN and not Order.objects.filter(session=session).exists()
    assert not SignatureRequest.objects.filter(status=SignatureRequest.Status.SIGNED).exists()
    assert MerchantConfirmation.objects.get().outcome == MerchantConfirmation.Outcome.DECLINED

    # The shop has it in stock again: the same code now signs and places the order.
    merchant_server.decide("confirm", merchant_order_id="SHOP-77")
    order = accept(session, cast.client2, content_hash, code)
    assert order.session == session and order.state in (Order.State.APPROVED, Order.State.IN_REVIEW)
    assert merchant_server.bodies()[-1]["session"]["reference"] == session.reference


def test_a_shop_that_does_not_answer_in_time_declines(shops, cast, button, merchant_server, settings):  # noqa: F811
    with_callback(shops, merchant_server.url)
    merchant_server.hang_next(seconds=2)  # longer than BNPL_CONFIRM_TIMEOUT_SECONDS (0.5 s here)
    session = buy(cast, button)
    content_hash = ready_to_sign(session, cast.client2, option="monthly_3")
    code = code_for(session, cast.client2, content_hash)

    with pytest.raises(ValidationError, match="did not answer"):
        accept(session, cast.client2, content_hash, code)
    assert not Order.objects.filter(session=session).exists()
