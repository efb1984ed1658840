"""What one `POST /api/v1/bnpl/sessions/` costs: a fixed number of queries whatever the basket, and
the hand-written payment options answering exactly as their declared serializer would."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from bnpl import pricing
from bnpl.api.serializers import PaymentOptionSerializer, payment_option_data
from bnpl.models import OrderLine, PaymentSession

from .test_sessions_api import SESSIONS, key_of

pytestmark = pytest.mark.django_db

# The key with its owner (1), the owner's roles (1), the merchant (1), the session, its lines in one
# INSERT and the audit event (3), and the transaction's BEGIN and COMMIT where the database shows
# them. Anything more is a query per line or a repeated lookup.
SESSION_CREATE_QUERIES = 8


def basket(lines: int, reference: str) -> str:
    return json.dumps(
        {
            "amount": f"{lines * 12:.2f}",
            "currency": "EUR",
            "order_lines": [{"name": f"Item {n}", "quantity": 2, "unit_price": "6.00"} for n in range(1, lines + 1)],
            "shopper_email": "carl.weber@example.com",
            "reference": reference,
        }
    )


def queries_of(client, credentials, lines: int, reference: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(SESSIONS, basket(lines, reference), content_type="application/json", **credentials)
    assert response.status_code == 201, response.content
    return len(queries.captured_queries)


def test_a_session_create_runs_the_same_few_queries_for_one_line_and_for_fifty(shops, cast, client):
    credentials = key_of(cast.merchant)
    # The first call stamps the key's last use (once a minute at most): not part of the steady cost.
    queries_of(client, credentials, 1, "WARM-UP")

    one = queries_of(client, credentials, 1, "ONE-LINE")
    fifty = queries_of(client, credentials, 50, "FIFTY-LINES")

    assert one == fifty
    assert one <= SESSION_CREATE_QUERIES
    assert OrderLine.objects.filter(session__reference="FIFTY-LINES").count() == 50
    assert PaymentSession.objects.filter(merchant=shops.delta).count() == 3


@pytest.mark.parametrize("amount", ["0.99", "12.34", "100.00", "999.99", "4321.07"])
@pytest.mark.parametrize("currency", ["EUR", "GBP"])
def test_the_written_out_options_answer_as_their_serializer(amount, currency):
    options = pricing.payment_options(amount=Decimal(amount), currency=currency, start=date(2024, 1, 31))

    with translation.override("de"):
        assert [payment_option_data(option) for option in options] == PaymentOptionSerializer(options, many=True).data


def test_options_are_computed_once_per_question_and_follow_a_changed_setting(settings):
    start = date(2024, 5, 15)
    first = pricing.payment_options(amount=Decimal("480.00"), currency="EUR", start=start)
    again = pricing.payment_options(amount=Decimal("480.00"), currency="EUR", start=start)
    assert again == first and all(a is b for a, b in zip(again, first, strict=True))
    # A caller may change its own list; the next caller still gets every option.
    again.clear()
    assert pricing.payment_options(amount=Decimal("480.00"), currency="EUR", start=start) == first

    settings.BNPL_NOMINAL_RATES = {**settings.BNPL_NOMINAL_RATES, "monthly_12": "5.00"}
    changed = {o.key: o for o in pricing.payment_options(amount=Decimal("480.00"), currency="EUR", start=start)}
    assert changed["monthly_12"].nominal_rate == Decimal("5.00")
    # 480.0 equals 480.00 but keeps its own exponent, as before the cache.
    assert pricing.payment_options(amount=Decimal("480.0"), currency="EUR", start=start)[0].amount.as_tuple() == (
        Decimal("480.0").as_tuple()
    )
