"""The hosted checkout's pages: who sees what, registration in place, the agreement PDF, closed sessions."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from bnpl import checkout
from bnpl.models import PaymentSession, SepaMandate, Shopper
from bnpl.services import LineInput, session_create
from portal.accounts.models import User
from portal.accounts.roles import Role

pytestmark = pytest.mark.django_db


def open_session(cast, email="client2@example.com", locale="en") -> PaymentSession:
    return session_create(
        actor=cast.merchant,
        amount=Decimal("120.00"),
        currency="EUR",
        lines=[LineInput(name="Milk frother", quantity=2, unit_price=Decimal("60.00"))],
        shopper_email=email,
        locale=locale,
        reference="DELTA-9100",
        return_url="https://shop.example.com/back",
    )


def url(session) -> str:
    return f"/bnpl/checkout/{session.token}/"


def test_an_unknown_token_is_404(client, shops):
    assert client.get("/bnpl/checkout/not-a-token/").status_code == 404


def test_a_visitor_sees_the_order_the_options_a_login_link_and_the_registration(client, shops, cast):
    session = open_session(cast, email="new.shopper@example.com")

    response = client.get(url(session))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Milk frother" in page and "Pay in 4" in page
    assert f"/accounts/login/?next=%2Fbnpl%2Fcheckout%2F{session.token}%2F" in page
    assert 'value="new.shopper@example.com"' in page


def test_the_page_speaks_the_sessions_language(client, shops, cast):
    session = open_session(cast, email="new.shopper@example.com", locale="de")

    response = client.get(url(session))

    assert response.status_code == 200 and '<html lang="de"' in response.content.decode()


def test_a_visitor_registers_in_place_and_is_logged_in_as_a_shopper(client, shops, cast):
    session = open_session(cast, email="new.shopper@example.com")

    response = client.post(
        url(session),
        {
            "action": "register",
            "first_name": "Nina",
            "last_name": "Neumann",
            "phone": "+49 151 2345 6789",
            "date_of_birth": "1990-04-02",
            "region": "de-by",
            "password": "a long enough pass phrase 42",
        },
    )

    assert response.status_code == 302 and response["Location"] == url(session)
    user = User.objects.get(email="new.shopper@example.com")
    assert user.has_role(Role.CLIENT) and user.phone == "+4915123456789" and user.phone_verified_at is None
    shopper = Shopper.objects.get(user=user)
    assert (shopper.region, shopper.date_of_birth, shopper.purchase_limit) == (
        "DE-BY",
        date(1990, 4, 2),
        Decimal("500.00"),
    )
    page = client.get(url(session))
    assert page.status_code == 200 and b'data-testid="step-option"' in page.content


def test_a_minor_cannot_register_and_nothing_is_written(client, shops, cast):
    session = open_session(cast, email="young@example.com")
    born = timezone.localdate() - timedelta(days=17 * 365)

    response = client.post(
        url(session),
        {
            "action": "register",
            "first_name": "Tim",
            "last_name": "Young",
            "phone": "+4915123456780",
            "date_of_birth": born.isoformat(),
            "region": "DE",
            "password": "a long enough pass phrase 42",
        },
    )

    assert response.status_code == 400
    assert "at least 18 years old" in response.content.decode()
    assert not User.objects.filter(email="young@example.com").exists()


def test_another_shopper_is_refused_the_page_and_the_agreement(client, shops, cast):
    session = open_session(cast)
    client.force_login(cast.client3)

    page = client.get(url(session))
    pdf = client.get(f"{url(session)}agreement.pdf")
    post = client.post(url(session), {"action": "option", "option_key": "pay_in_4"})

    assert page.status_code == 403 and "this checkout is for another e-mail" in page.content.decode().lower()
    assert pdf.status_code == 403
    assert post.status_code == 403 and not hasattr(PaymentSession.objects.get(pk=session.pk), "agreement")


def test_an_expired_checkout_explains_and_links_back_to_the_shop(client, shops, cast):
    session = open_session(cast)
    PaymentSession.objects.filter(pk=session.pk).update(
        created_at=timezone.now() - timedelta(hours=2), expires_at=timezone.now() - timedelta(minutes=1)
    )

    response = client.get(url(session))

    assert response.status_code == 410
    page = response.content.decode()
    assert "This checkout has expired" in page and 'href="https://shop.example.com/back"' in page


def test_the_shopper_picks_an_option_gives_the_account_and_downloads_the_agreement(client, shops, cast):
    session = open_session(cast)
    client.force_login(cast.client2)

    client.post(url(session), {"action": "option", "option_key": "monthly_3"})
    bad = client.post(url(session), {"action": "mandate", "account_holder": "Carl Weber", "iban": "DE00 1234"})
    good = client.post(
        url(session), {"action": "mandate", "account_holder": "Carl Weber", "iban": "DE89370400440532013000"}
    )
    page = client.get(url(session)).content.decode()
    pdf = client.get(f"{url(session)}agreement.pdf")

    assert bad.status_code == 400 and "The IBAN is not valid" in bad.content.decode()
    assert good.status_code == 302
    assert SepaMandate.objects.filter(shopper=shops.client2, state="active").count() == 1
    assert 'data-testid="secci"' in page and "Right of withdrawal" in page and 'data-testid="request-code"' in page
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(__import__("io").BytesIO(pdf.content)).pages)
    draft = checkout.agreement_draft(
        session=session, shopper=shops.client2, option_key="monthly_3", today=timezone.localdate()
    )
    assert "Credit agreement" in text and "Milk frother" in text and draft.content_hash[:32] in text.replace("\n", "")


@pytest.mark.parametrize("count", [2, 30])
def test_the_checkout_page_runs_a_bounded_number_of_queries(client, shops, cast, django_assert_max_num_queries, count):
    session = session_create(
        actor=cast.merchant,
        amount=Decimal("30.00") * count,
        currency="EUR",
        lines=[LineInput(name=f"Item {n}", quantity=1, unit_price=Decimal("30.00")) for n in range(count)],
        shopper_email="client2@example.com",
        locale="en",
        reference=f"DELTA-Q{count}",
    )
    client.force_login(cast.client2)
    client.post(url(session), {"action": "option", "option_key": "pay_in_4"})

    with django_assert_max_num_queries(30):
        response = client.get(url(session))

    page = response.content.decode()
    assert response.status_code == 200 and page.count('data-testid="order-line"') == count
    assert 'data-testid="secci"' in page


def test_a_used_checkout_shows_its_outcome_to_its_shopper_and_complete_to_anybody_else(client, shops, cast):
    from bnpl.models import Order

    session = open_session(cast)
    Order.objects.create(
        merchant=shops.delta,
        shopper=shops.client2,
        session=session,
        reference=session.reference,
        amount=session.amount,
        currency="EUR",
        option_key="pay_in_4",
        state=Order.State.IN_REVIEW,
    )
    PaymentSession.objects.filter(pk=session.pk).update(state=PaymentSession.State.USED)

    client.force_login(cast.client2)
    own = client.get(url(session))
    client.force_login(cast.client3)
    other = client.get(url(session))

    assert own.status_code == 200 and "tell you by e-mail" in own.content.decode()
    assert other.status_code == 410 and "This checkout is complete" in other.content.decode()


def test_a_shopper_without_a_mobile_number_gives_one_and_a_bad_one_is_refused(client, shops, cast):
    from tests.factories import UserFactory

    user = UserFactory(email="no.phone@example.com", phone="", roles=[Role.CLIENT])
    session = open_session(cast, email="no.phone@example.com")
    client.force_login(user)

    assert 'data-testid="phone-set"' in client.get(url(session)).content.decode()
    bad = client.post(url(session), {"action": "phone_set", "phone": "call me"})

    assert bad.status_code == 400 and 'data-testid="error-phone"' in bad.content.decode()
    user.refresh_from_db()
    assert user.phone == ""
    good = client.post(url(session), {"action": "phone_set", "phone": "+49 151 2222 3333"})
    user.refresh_from_db()
    assert good.status_code == 302 and user.phone == "+4915122223333" and user.phone_verified_at is None
    assert 'data-testid="phone-send"' in client.get(url(session)).content.decode()


def test_a_wrong_code_is_shown_at_the_code_field_and_places_nothing(client, shops, cast):
    from bnpl import mandates
    from bnpl.models import Order

    session = open_session(cast)
    client.force_login(cast.client2)
    client.post(url(session), {"action": "option", "option_key": "pay_in_4"})
    mandates.mandate_grant(
        actor=cast.client2, shopper=shops.client2, iban="DE89370400440532013000", account_holder="C W"
    )
    draft = checkout.agreement_draft(
        session=session, shopper=shops.client2, option_key="pay_in_4", today=timezone.localdate()
    )
    client.post(url(session), {"action": "code", "content_hash": draft.content_hash})

    response = client.post(
        url(session),
        {"action": "accept", "option_key": "pay_in_4", "content_hash": draft.content_hash, "code": "12345"},
    )

    assert response.status_code == 400 and "Enter the 6-digit code from the SMS." in response.content.decode()
    assert not Order.objects.filter(session=session).exists()
