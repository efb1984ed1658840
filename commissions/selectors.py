"""Reads of commissions, always through the policy in `permissions.py`."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, QuerySet, Sum
from django.http import Http404

from . import permissions
from .models import Accrual, AssetClass, Kind, Statement

CENT = Decimal("0.01")


def statement_list(*, actor) -> QuerySet[Statement]:
    """The statements (one per person and month) the actor may see, newest month first."""
    return (
        Statement.objects.restrict(actor)
        .select_related("beneficiary", "firm")
        .order_by("-period", "beneficiary__last_name", "pk")
    )


def statement_list_title_firm(*, actor):
    """The firm a firm manager's list is about (they see its people's statements), else None."""
    firm_id = permissions.firm_seen(actor)
    if not firm_id:
        return None
    from portal.accounts.models import Organisation

    return Organisation.objects.filter(pk=firm_id).first()


def statement_totals(*, statements: QuerySet[Statement]) -> list[dict]:
    """Sums of already filtered statements, one row per currency (amounts of two currencies never add up)."""
    return list(
        statements.order_by()
        .values("currency")
        .annotate(
            upfront=Sum("upfront"),
            trailing=Sum("trailing"),
            fixed=Sum("fixed"),
            override=Sum("override"),
            total=Sum("total"),
            count=Count("id"),
        )
        .order_by("currency")
    )


def statement_people(*, actor):
    """Whose statements the actor may pick from (a firm manager with the permission, back office)."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.order_by("last_name", "first_name", "email")
    if permissions.sees_everything(actor):
        return users.filter(commission_statements__isnull=False).distinct()
    if permissions.firm_seen(actor):
        return users.filter(
            organisation_id=permissions.firm_seen(actor), commission_statements__isnull=False
        ).distinct()
    return users.none()


def access_statement(*, actor, statement_id) -> Statement:
    try:
        return statement_list(actor=actor).get(pk=statement_id)
    except (Statement.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def accrual_list(*, actor) -> QuerySet[Accrual]:
    return (
        Accrual.objects.restrict(actor)
        .select_related("client", "portfolio", "instrument", "statement")
        .order_by("date", "pk")
    )


def access_accrual(*, actor, accrual_id) -> Accrual:
    try:
        return (
            accrual_list(actor=actor)
            .select_related("beneficiary", "rule", "rule__plan", "source_transaction", "source_transaction__instrument")
            .get(pk=accrual_id)
        )
    except (Accrual.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def accruals_of(*, statement) -> QuerySet[Accrual]:
    """Entries of a statement the caller already fetched through `access_statement`."""
    return (
        Accrual.objects.filter(statement=statement)
        .select_related("client", "portfolio", "instrument")
        .order_by("date", "kind", "pk")
    )


def statement_breakdown(*, statement) -> dict:
    """Totals of one statement by kind, by client and by product, each a bounded number of queries."""
    rows = Accrual.objects.filter(statement=statement).order_by()
    by_client = [
        {**row, "total": _cents(row["total"])}
        for row in rows.values("client_id", "client__number", "client__first_name", "client__last_name")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("-total", "client__number")
    ]
    by_product = []
    labels = dict(AssetClass.choices)
    for row in (
        rows.values("asset_class", "instrument_id", "instrument__name", "instrument__isin")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("-total", "instrument__name")
    ):
        row["label"] = row["instrument__name"] or labels.get(row["asset_class"]) or _whole_book()
        row["total"] = _cents(row["total"])
        by_product.append(row)
    kind_labels = dict(Kind.choices)
    by_kind = [
        {"kind": kind, "label": kind_labels[kind], "total": getattr(statement, kind)}
        for kind in Kind.values
        if getattr(statement, kind)
    ]
    return {"by_client": by_client, "by_product": by_product, "by_kind": by_kind}


def accruals_for_disclosure(*, start, end, beneficiary_id=None, client_id=None) -> list[dict]:
    """Commissions in a period for a regulatory report: per month, kind and product (and client).

    Unscoped: the reports app decides who may ask before calling (it reaches this as the provider
    "commissions.disclosure" registered in apps.py, as sibling apps do not import each other).
    """
    rows = Accrual.objects.filter(date__gte=start, date__lte=end)
    if beneficiary_id is not None:
        rows = rows.filter(beneficiary_id=beneficiary_id)
    if client_id is not None:
        rows = rows.filter(client_id=client_id)
    labels = dict(AssetClass.choices)
    kind_labels = dict(Kind.choices)
    result = []
    for row in (
        rows.values(
            "period", "kind", "asset_class", "instrument__name", "client_id", "client__number", "beneficiary_id"
        )
        .annotate(amount=Sum("amount"), basis=Sum("basis"), count=Count("id"))
        .order_by("period", "kind", "client__number", "asset_class", "instrument__name")
    ):
        result.append(
            {
                "month": row["period"],
                "kind": row["kind"],
                "kind_label": str(kind_labels[row["kind"]]),
                "product": row["instrument__name"] or str(labels.get(row["asset_class"]) or _whole_book()),
                "client_id": row["client_id"],
                "client_number": row["client__number"],
                "beneficiary_id": row["beneficiary_id"],
                "amount": row["amount"],
                "entries": row["count"],
            }
        )
    return result


def _cents(value) -> Decimal:
    return (value or Decimal(0)).quantize(CENT, ROUND_HALF_UP)


def _whole_book():
    from django.utils.translation import gettext

    return gettext("Whole portfolio")
