from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from clients.models import Client
from intermediaries.models import Portfolio, Transaction
from portal.api.fields import BlankAsNullEmailField, ModelSerializer


class ClientSerializer(ModelSerializer):
    advisor = serializers.EmailField(source="advisor.email", allow_null=True, read_only=True)

    class Meta:
        model = Client
        fields = ["id", "number", "first_name", "last_name", "status", "assets", "assets_currency", "advisor"]


class ClientDetailSerializer(ClientSerializer):
    email = BlankAsNullEmailField(help_text="The client's e-mail address; null when none is known.")

    class Meta(ClientSerializer.Meta):
        fields = [
            *ClientSerializer.Meta.fields,
            "email",
            "phone",
            "street",
            "postcode",
            "city",
            "country",
            "birth_date",
        ]


class PortfolioSerializer(ModelSerializer):
    class Meta:
        model = Portfolio
        fields = ["id", "number", "name", "currency", "opened_on", "status", "market_value", "valued_on"]


class TransactionSerializer(ModelSerializer):
    portfolio = serializers.CharField(source="portfolio.number")
    isin = serializers.CharField(source="instrument.isin", allow_null=True, default=None)
    instrument = serializers.CharField(source="instrument.name", allow_null=True, default=None)
    reference = serializers.CharField(
        source="reference.external_id",
        allow_null=True,
        default=None,
        help_text="The external_id of the booking this one refers to: the booking a reversal cancels, or the "
        "transfer_out a transfer from another portfolio of the client receives.",
    )
    counterpart_portfolio = serializers.CharField(
        source="counterpart_portfolio.number",
        allow_null=True,
        default=None,
        help_text="For a transfer between two portfolios of the client: the other portfolio.",
    )

    class Meta:
        model = Transaction
        fields = [
            "id",
            "external_id",
            "portfolio",
            "type",
            "trade_date",
            "isin",
            "instrument",
            "quantity",
            "price",
            "amount",
            "currency",
            "ratio",
            "reference",
            "counterpart_portfolio",
        ]


class PositionSerializer(serializers.Serializer):
    portfolio = serializers.CharField(source="portfolio.number")
    isin = serializers.CharField(source="instrument.isin")
    instrument = serializers.CharField(source="instrument.name")
    asset_class = serializers.CharField(source="instrument.asset_class")
    quantity = serializers.DecimalField(max_digits=24, decimal_places=8)
    price = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    price_date = serializers.DateField(allow_null=True)
    price_stale = serializers.BooleanField(source="stale")
    currency = serializers.CharField(source="portfolio.currency")
    market_value = serializers.DecimalField(max_digits=20, decimal_places=2)
    cost = serializers.DecimalField(max_digits=20, decimal_places=2)
    unrealised_gain = serializers.DecimalField(source="unrealised", max_digits=20, decimal_places=2)
    weight = serializers.DecimalField(max_digits=12, decimal_places=8)


class SeriesPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    value = serializers.DecimalField(max_digits=20, decimal_places=2)
    cumulative_return = serializers.DecimalField(max_digits=24, decimal_places=10)
    daily_return = serializers.DecimalField(max_digits=24, decimal_places=10, required=False)


# Returns are fractions (0.05 is 5 %) and follow GIPS: cumulative over the range, annualised only from a year.
RETURN_HELP = {
    "twr": (
        "Time-weighted return, cumulative over the days from `start` to `end` (from the close before "
        "`start` to the close of `end`); not annualised."
    ),
    "mwr": (
        "Money-weighted return (internal rate of return of the flows), cumulative over the same days "
        "as `twr`; not annualised. Without deposits or withdrawals in the range it equals `twr`. Null "
        "when the flows have no internal rate of return."
    ),
    "twr_annualised": (
        "`twr` per year; only for a range of one year or more, null for a shorter one (a return for "
        "less than a year is not annualised)."
    ),
    "mwr_annualised": "`mwr` per year; only for a range of one year or more, null for a shorter one.",
}


def _return(name: str):
    return serializers.DecimalField(max_digits=24, decimal_places=10, allow_null=True, help_text=RETURN_HELP[name])


class PeriodSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="1M, MTD, YTD, 1Y, 3Y or MAX (since the first valuation).")
    start = serializers.DateField()
    end = serializers.DateField()
    twr = _return("twr")
    mwr = _return("mwr")
    twr_annualised = _return("twr_annualised")
    mwr_annualised = _return("mwr_annualised")


class PerformanceSerializer(serializers.Serializer):
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    currency = serializers.CharField(default="EUR")
    twr = _return("twr")
    mwr = _return("mwr")
    twr_annualised = _return("twr_annualised")
    mwr_annualised = _return("mwr_annualised")
    flags = serializers.ListField(child=serializers.CharField())
    periods = PeriodSerializer(many=True)
    series = SeriesPointSerializer(many=True)


class PerformanceQuerySerializer(serializers.Serializer):
    to = serializers.DateField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword, so it cannot be declared in the class body.
        fields["from"] = serializers.DateField(required=False)
        return fields

    def validate(self, values):
        if values.get("from") and values.get("to") and values["from"] > values["to"]:
            raise serializers.ValidationError({"from": [_("The start must not be after the end.")]})
        return values


class PositionQuerySerializer(serializers.Serializer):
    date = serializers.DateField(required=False)


class DashboardTransactionSerializer(TransactionSerializer):
    client_id = serializers.IntegerField(source="portfolio.client_id")

    class Meta(TransactionSerializer.Meta):
        fields = [*TransactionSerializer.Meta.fields, "client_id"]


class AllocationSerializer(serializers.Serializer):
    asset_class = serializers.CharField()
    value = serializers.DecimalField(max_digits=20, decimal_places=2)
    weight = serializers.DecimalField(max_digits=12, decimal_places=8)


class DashboardSerializer(serializers.Serializer):
    period = serializers.CharField()
    as_of = serializers.DateField(allow_null=True)
    currency = serializers.CharField(default="EUR")
    aum = serializers.DecimalField(max_digits=20, decimal_places=2)
    aum_change = serializers.DecimalField(max_digits=20, decimal_places=2)
    twr = serializers.DecimalField(max_digits=24, decimal_places=10, allow_null=True)
    clients_total = serializers.IntegerField()
    clients_active = serializers.IntegerField()
    net_inflows_month = serializers.DecimalField(max_digits=20, decimal_places=2)
    latest_transactions = DashboardTransactionSerializer(many=True)
    top_clients = ClientSerializer(many=True)
    allocation = AllocationSerializer(many=True)
    chart = SeriesPointSerializer(many=True)
