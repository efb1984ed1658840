from rest_framework import serializers

from commissions.models import Accrual, Statement
from commissions.permissions import sees_everything
from portal.api.fields import ModelSerializer


class StatementStatusField(serializers.ChoiceField):
    """The status as the caller may know it: a rejected statement reads "prepared" (in review) to
    anyone but back office and compliance, as on the pages."""

    def to_representation(self, value):
        request = self.context.get("request")
        if value == Statement.Status.REJECTED and not (request is not None and sees_everything(request.user)):
            return Statement.Status.PREPARED.value
        return super().to_representation(value)


class StatementSerializer(ModelSerializer):
    status = StatementStatusField(choices=Statement.Status.choices, read_only=True)
    beneficiary = serializers.EmailField(source="beneficiary.email", read_only=True)
    month = serializers.DateField(source="period", read_only=True)
    pdf_available = serializers.SerializerMethodField()

    class Meta:
        model = Statement
        fields = [
            "id",
            "month",
            "beneficiary",
            "status",
            "currency",
            "total",
            "upfront",
            "trailing",
            "fixed",
            "override",
            "accrual_count",
            "prepared_at",
            "approved_at",
            "paid_at",
            "payment_reference",
            "pdf_available",
        ]

    def get_pdf_available(self, statement) -> bool:
        return bool(statement.pdf)


class StatementDetailSerializer(StatementSerializer):
    by_client = serializers.SerializerMethodField()
    by_product = serializers.SerializerMethodField()

    class Meta(StatementSerializer.Meta):
        fields = [*StatementSerializer.Meta.fields, "by_client", "by_product"]

    def _breakdown(self):
        return self.context["breakdown"]

    def get_by_client(self, statement) -> list[dict]:
        return [
            {
                "client_id": row["client_id"],
                "client_number": row["client__number"],
                "label": f"{row['client__first_name']} {row['client__last_name']}",
                "total": str(row["total"]),
                "entries": row["count"],
            }
            for row in self._breakdown()["by_client"]
        ]

    def get_by_product(self, statement) -> list[dict]:
        return [
            {
                "asset_class": row["asset_class"],
                "isin": row["instrument__isin"],
                "label": str(row["label"]),
                "total": str(row["total"]),
                "entries": row["count"],
            }
            for row in self._breakdown()["by_product"]
        ]


class SourceTransactionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    type = serializers.CharField()
    trade_date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    currency = serializers.CharField()


class AccrualSerializer(ModelSerializer):
    client_number = serializers.CharField(source="client.number", read_only=True)
    portfolio = serializers.CharField(source="portfolio.number", read_only=True)
    isin = serializers.CharField(source="instrument.isin", read_only=True, allow_null=True, default=None)
    statement = serializers.IntegerField(source="statement_id", read_only=True)
    month = serializers.DateField(source="period", read_only=True)
    valuation_date = serializers.DateField(source="source_date", read_only=True, allow_null=True)
    source_transaction = serializers.IntegerField(source="source_transaction_id", read_only=True, allow_null=True)

    class Meta:
        model = Accrual
        fields = [
            "id",
            "statement",
            "month",
            "date",
            "days",
            "kind",
            "client_id",
            "client_number",
            "portfolio",
            "isin",
            "asset_class",
            "basis",
            "rate",
            "amount",
            "currency",
            "source_key",
            "source_transaction",
            "valuation_date",
        ]


class AccrualDetailSerializer(AccrualSerializer):
    transaction = SourceTransactionSerializer(source="source_transaction", read_only=True, allow_null=True)

    class Meta(AccrualSerializer.Meta):
        fields = [*AccrualSerializer.Meta.fields, "transaction"]
