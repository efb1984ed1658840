"""The merchant API's bodies: a new payment session in, sessions and orders out.

Amounts are decimal strings in answers ("100.00"); in a request a string or a JSON number with at
most two decimal places.
"""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.fields import ModelSerializer, StrictCharField, StrictIntegerField

from ..models import Instalment, Locale, Order, OrderLine, PaymentSession, Plan
from ..money import MONEY

# --- In --------------------------------------------------------------------------------------------


class LineInSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    quantity = StrictIntegerField(min_value=1, max_value=1_000_000)
    unit_price = serializers.DecimalField(**MONEY, min_value=0)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, default=0)


class SessionCreateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    currency = StrictCharField(min_length=3, max_length=3)
    order_lines = LineInSerializer(many=True, allow_empty=False, max_length=200)
    shopper_email = serializers.EmailField(max_length=254)
    locale = serializers.ChoiceField(choices=Locale.choices, default=Locale.EN)
    reference = StrictCharField(max_length=64)
    return_url = serializers.URLField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="Where the checkout sends the shopper back to your shop: https (http on loopback in DEBUG).",
    )


class SessionLinesSerializer(serializers.Serializer):
    """New order lines for an open session, with the new amount they add up to."""

    amount = serializers.DecimalField(**MONEY)
    order_lines = LineInSerializer(many=True, allow_empty=False, max_length=200)


# --- Out -------------------------------------------------------------------------------------------


class ScheduledPaymentSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    amount = serializers.DecimalField(**MONEY)
    principal = serializers.DecimalField(**MONEY)
    interest = serializers.DecimalField(**MONEY)


class PaymentOptionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    instalments = serializers.IntegerField()
    currency = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    total_payable = serializers.DecimalField(**MONEY)
    total_cost_of_credit = serializers.DecimalField(**MONEY)
    nominal_rate = serializers.DecimalField(max_digits=8, decimal_places=4, help_text="Percent per year.")
    apr = serializers.DecimalField(max_digits=8, decimal_places=4, help_text="Percent per year (EU CCD, Annex I).")
    schedule = ScheduledPaymentSerializer(many=True)


class LineSerializer(ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["position", "name", "quantity", "unit_price", "tax_rate", "line_total"]


class SessionSerializer(ModelSerializer):
    state = serializers.SerializerMethodField()
    button = serializers.SlugRelatedField(
        slug_field="key",
        read_only=True,
        allow_null=True,
        help_text="The key of the buy button the shopper bought from (instant shopping); null for your own sessions.",
    )
    order_lines = LineSerializer(source="lines", many=True, read_only=True)
    checkout_url = serializers.SerializerMethodField()
    payment_options = serializers.SerializerMethodField()

    class Meta:
        model = PaymentSession
        fields = [
            "id",
            "token",
            "state",
            "amount",
            "currency",
            "shopper_email",
            "locale",
            "reference",
            "button",
            "return_url",
            "order_lines",
            "created_at",
            "expires_at",
            "checkout_url",
            "payment_options",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=PaymentSession.State.choices))
    def get_state(self, session) -> str:
        return session.current_state(self.context.get("now"))

    def get_checkout_url(self, session) -> str:
        from ..services import session_checkout_url

        return session_checkout_url(session)

    @extend_schema_field(PaymentOptionSerializer(many=True))
    def get_payment_options(self, session) -> list[dict]:
        options = self.context.get("payment_options", {}).get(session.pk, [])
        return [payment_option_data(option) for option in options]


def _decimal_text(value, quantum) -> str:
    return f"{value.quantize(quantum):f}"  # as DRF's DecimalField writes it


CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")


def payment_option_data(option) -> dict:
    """What PaymentOptionSerializer answers for one option, written out by hand.

    An answer carries five options with some fifty scheduled payments; DRF's field machinery costs
    about 10 µs a value there, a few milliseconds a session. PaymentOptionSerializer stays the
    declared shape (the schema); tests/bnpl/test_sessions_api.py checks both answer the same.
    """
    return {
        "key": option.key,
        "label": str(option.label),
        "instalments": option.instalments,
        "currency": option.currency,
        "amount": _decimal_text(option.amount, CENT),
        "total_payable": _decimal_text(option.total_payable, CENT),
        "total_cost_of_credit": _decimal_text(option.total_cost_of_credit, CENT),
        "nominal_rate": _decimal_text(option.nominal_rate, RATE_PLACES),
        "apr": _decimal_text(option.apr, RATE_PLACES),
        "schedule": [
            {
                "number": line.number,
                "due_date": line.due_date.isoformat(),
                "amount": _decimal_text(line.amount, CENT),
                "principal": _decimal_text(line.principal, CENT),
                "interest": _decimal_text(line.interest, CENT),
            }
            for line in option.schedule
        ],
    }


class InstalmentSerializer(ModelSerializer):
    class Meta:
        model = Instalment
        fields = ["number", "due_date", "amount", "principal", "interest", "paid_amount", "state"]


class PlanSerializer(ModelSerializer):
    instalments = InstalmentSerializer(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = [
            "option_key",
            "state",
            "currency",
            "nominal_rate",
            "apr",
            "total_payable",
            "total_cost_of_credit",
            "start_date",
            "instalments",
        ]


class OrderSerializer(ModelSerializer):
    session = serializers.IntegerField(source="session_id", read_only=True, allow_null=True)
    shopper_email = serializers.EmailField(source="shopper.user.email", read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "reference",
            "state",
            "amount",
            "currency",
            "refunded_amount",
            "option_key",
            "session",
            "shopper_email",
            "shipped_at",
            "carrier",
            "tracking_number",
            "created_at",
            "updated_at",
        ]


class OrderDetailSerializer(OrderSerializer):
    order_lines = LineSerializer(source="lines", many=True, read_only=True)
    plan = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "order_lines", "plan"]

    @extend_schema_field(PlanSerializer(allow_null=True))
    def get_plan(self, order) -> dict | None:
        plan = getattr(order, "plan", None)  # a reverse one-to-one: None until the order has a plan
        return PlanSerializer(plan).data if plan is not None else None
