"""/bnpl/fees/: back office sees the schedules and, for a shopper, which applies and why; bad input is
refused and changes nothing; nobody else reaches the page."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.urls import reverse

from bnpl.fees_demo import fees_demo_step
from bnpl.models import CustomerGroup, FeeSchedule, FeeStatusRule
from portal.audit.models import AuditEvent

from .factories import ShopperFactory
from .fee_helpers import schedule

pytestmark = pytest.mark.django_db
URL = reverse("bnpl:fees")


def schedule_post(**fields):
    data = {
        "form": "schedule",
        "schedule-scope": "region",
        "schedule-region": "DE-BY",
        "schedule-currency": "EUR",
        "schedule-late_fee_amount": "4.00",
        "schedule-grace_days": "7",
        "schedule-dunning_fee_amount": "2.00",
        "schedule-cap_per_instalment": "8.00",
        "schedule-cap_share_of_purchase": "8.00",
        "schedule-active": "on",
        "schedule-valid_from": "2026-01-01",
    }
    data.update({f"schedule-{key}": value for key, value in fields.items()})
    return data


@pytest.mark.parametrize("who", ["merchant", "client1", "outsider", "broker1", "partner"])
def test_nobody_but_back_office_reaches_the_page(cast, login_as, who):
    client = login_as(getattr(cast, who))
    assert client.get(URL).status_code in (403, 404)
    assert client.post(URL, schedule_post()).status_code in (403, 404)
    assert not FeeSchedule.objects.exists()


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_back_office_sees_which_schedule_applies_and_why(cast, login_as, django_assert_max_num_queries):
    shopper = ShopperFactory(user=cast.client2, region="DE-BY")
    schedule()
    schedule("region", region="DE-BY", late_fee_amount=Decimal("4.00"))
    client = login_as(cast.backoffice)
    with django_assert_max_num_queries(20):
        response = client.get(URL, {"shopper": shopper.user.email, "currency": "EUR"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-level="region"' in body
    assert "Region: a schedule for DE-BY / DE applies" in body
    assert "overruled by a more specific schedule" in body


def test_the_page_costs_the_same_queries_with_more_schedules(cast, login_as, django_assert_max_num_queries):
    client = login_as(cast.backoffice)
    schedule()
    with django_assert_max_num_queries(15):
        assert client.get(URL).status_code == 200
    for n in range(20):
        schedule("region", region=f"DE-B{n}")
    with django_assert_max_num_queries(15):
        assert client.get(URL).status_code == 200


def test_an_unknown_shopper_in_the_lookup_is_a_clear_error(cast, login_as):
    response = login_as(cast.backoffice).get(URL, {"shopper": "nobody@example.com", "currency": "EUR"})
    assert response.status_code == 400
    assert "No shopper with the e-mail address" in response.content.decode()


def test_back_office_adds_a_schedule_with_an_audit_event(cast, login_as):
    response = login_as(cast.backoffice).post(URL, schedule_post())
    assert response.status_code == 302
    created = FeeSchedule.objects.get()
    assert (created.scope, created.region, created.late_fee_amount) == ("region", "DE-BY", Decimal("4.00"))
    assert AuditEvent.objects.filter(action="bnpl.fee_schedule_created", actor=cast.backoffice).exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"late_fee_amount": "-1.00"}, "greater than or equal to 0"),
        ({"cap_share_of_purchase": "150"}, "less than or equal to 100"),
        ({"region": ""}, "needs the region"),
        ({"region": "Bavaria"}, "A region is an ISO 3166 code"),
        ({"currency": "XXX"}, "not one of the available choices"),
        ({"scope": "person"}, "needs the shopper"),
        ({"scope": "group"}, "needs the group"),
        ({"scope": "person", "region": "", "shopper_email": "nobody@example.com"}, "No shopper with the e-mail"),
        ({"late_fee_amount": "abc"}, "Enter a number"),
    ],
)
def test_bad_schedule_input_is_refused_and_changes_nothing(cast, login_as, fields, message):
    response = login_as(cast.backoffice).post(URL, schedule_post(**fields))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not FeeSchedule.objects.exists()
    assert not AuditEvent.objects.filter(action="bnpl.fee_schedule_created").exists()


def test_a_person_schedule_names_the_shopper_by_e_mail(cast, login_as):
    shopper = ShopperFactory(user=cast.client2)
    response = login_as(cast.backoffice).post(
        URL, schedule_post(scope="person", region="", shopper_email=shopper.user.email)
    )
    assert response.status_code == 302
    assert FeeSchedule.objects.get().shopper == shopper


def test_a_late_payment_rule_without_days_is_refused(cast, login_as):
    data = {
        "form": "rule",
        "rule-name": "Late payer",
        "rule-condition": "late_payments_in_days",
        "rule-days": "",
        "rule-threshold": "2",
        "rule-currency": "EUR",
        "rule-status": "watch",
        "rule-position": "1",
        "rule-active": "on",
    }
    client = login_as(cast.backoffice)
    response = client.post(URL, data)
    assert response.status_code == 400
    assert "over how many days" in response.content.decode()
    assert not FeeStatusRule.objects.exists()
    assert client.post(URL, data | {"rule-days": "90"}).status_code == 302
    assert FeeStatusRule.objects.get().days == 90


def test_back_office_puts_a_shopper_in_a_group(cast, login_as):
    shopper = ShopperFactory(user=cast.client2)
    client = login_as(cast.backoffice)
    assert client.post(URL, {"form": "group", "group-name": "Loyal customers"}).status_code == 302
    group = CustomerGroup.objects.get()
    response = client.post(URL, {"form": "assign", "assign-shopper": shopper.user.email, "assign-group": group.pk})
    assert response.status_code == 302
    shopper.refresh_from_db()
    assert shopper.customer_group == group
    assert client.post(URL, {"form": "bogus"}).status_code == 400


def test_the_demo_sets_up_the_fee_module_once(cast):
    fees_demo_step(scale="small", stdout=StringIO())
    counts = (FeeSchedule.objects.count(), CustomerGroup.objects.count(), FeeStatusRule.objects.count())
    fees_demo_step(scale="small", stdout=StringIO())
    assert counts == (5, 1, 2)  # default, group, region, and the "loyal" and "watch" statuses
    assert (FeeSchedule.objects.count(), CustomerGroup.objects.count(), FeeStatusRule.objects.count()) == counts
    default = FeeSchedule.objects.get(scope="default")
    assert (default.late_fee_amount, default.grace_days, default.dunning_fee_amount) == (
        Decimal("5.00"),
        5,
        Decimal("2.50"),
    )
    assert (default.cap_per_instalment, default.cap_share_of_purchase) == (Decimal("10.00"), Decimal("10.00"))
    assert default.valid_from == date(2026, 1, 1)


@pytest.mark.parametrize(
    "model", ["customergroup", "feeschedule", "feestatusrule", "feestatus", "feestatuschange", "feecharge"]
)
def test_admin_shows_the_fee_module_read_only(cast, login_as, model):
    schedule()
    client = login_as(cast.admin)
    assert client.get(reverse(f"admin:bnpl_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:bnpl_{model}_add")).status_code == 403
