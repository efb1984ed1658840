"""Demo data: a house plan, Alpha Invest's plan with the manager's override, a dated change for
broker1, six months of accruals, and the payout run for the finished months (closed by admin,
approved by backoffice, older ones paid). The newest closed month waits for backoffice@'s approval
(prepared by admin@), and one of its statements was rejected by backoffice@ with a reason."""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from intermediaries.models import AssetClass, TransactionType
from portal.accounts.models import Organisation
from portal.accounts.roles import Role

from . import services
from .models import CommissionMonth, CommissionPlan, CommissionRule, Kind, Statement, month_start

MONTHS = 6
CAST = ["admin@example.com", "backoffice@example.com", "manager@example.com", "broker1@example.com"]


def _months_back(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def plans_ensure(*, since: date) -> None:
    users = get_user_model().objects.in_bulk(CAST, field_name="email")
    house, _ = CommissionPlan.objects.get_or_create(scope_key="default", defaults={"name": "House plan"})
    later = _months_back(timezone.localdate(), 2)
    rules = [
        (house, Kind.UPFRONT, AssetClass.EQUITY, "", "0.0100", None, since),
        (house, Kind.UPFRONT, AssetClass.BOND, "", "0.0050", None, since),
        (house, Kind.UPFRONT, AssetClass.FUND, "", "0.0250", None, since),
        (house, Kind.UPFRONT, AssetClass.ETF, "", "0.0075", None, since),
        (house, Kind.TRAILING, "", "", "0.0040", None, since),
        # A dated change: the trailing rate rises two months ago; earlier days keep 0.40 %.
        (house, Kind.TRAILING, "", "", "0.0050", None, later),
        (house, Kind.FIXED, "", TransactionType.TRANSFER_IN, None, "50.00", since),
    ]
    alpha = Organisation.objects.filter(name="Alpha Invest").first()
    manager = users.get("manager@example.com")
    if alpha is not None:
        firm, _ = CommissionPlan.objects.get_or_create(
            scope_key=f"firm:{alpha.pk}",
            defaults={"name": "Alpha Invest", "firm": alpha, "override_manager": manager},
        )
        rules.append((firm, Kind.OVERRIDE, "", "", "0.1000", None, since))
    broker1 = users.get("broker1@example.com")
    if broker1 is not None:
        own, _ = CommissionPlan.objects.get_or_create(
            scope_key=f"broker:{broker1.pk}", defaults={"name": "Boris Brandt (senior)", "broker": broker1}
        )
        rules.append((own, Kind.UPFRONT, AssetClass.EQUITY, "", "0.0125", None, since))
    for plan, kind, asset_class, event, rate, amount, valid_from in rules:
        CommissionRule.objects.get_or_create(
            plan=plan,
            kind=kind,
            asset_class=asset_class,
            instrument=None,
            event=event,
            valid_from=valid_from,
            defaults={"rate": Decimal(rate) if rate else None, "amount": Decimal(amount) if amount else None},
        )
    # The demo firm manager's role may see the firm's brokers' commissions.
    group = Group.objects.filter(name=Role.FIRM_MANAGER).first()
    if group is not None:
        group.permissions.add(*Permission.objects.filter(codename="view_firm_commissions"))


def demo_step(*, scale: str, stdout) -> None:
    today = timezone.localdate()
    first = _months_back(today, MONTHS)
    plans_ensure(since=first)
    users = get_user_model().objects.in_bulk(CAST, field_name="email")
    cast_brokers = list(
        get_user_model()
        .objects.filter(email__in=["broker1@example.com", "broker2@example.com", "broker3@example.com"])
        .values_list("pk", flat=True)
    )
    # The large data set has hundreds of brokers: the demo accrues only the named cast's months.
    broker_ids = cast_brokers if scale == "large" else None
    period = first
    entries = 0
    while period <= month_start(today):
        entries += services.month_accrue(period=period, broker_ids=broker_ids)
        period = month_start(period + timedelta(days=32))
    stdout.write(f"  commissions: {entries} entries over {MONTHS + 1} months")
    admin, backoffice = users.get("admin@example.com"), users.get("backoffice@example.com")
    if admin is None or backoffice is None:
        return
    if scale == "large":
        # Closing computes every broker of the month once more: hours on the large data set.
        stdout.write("  commissions: months left open at the large scale (close them in admin)")
        return
    closable = [_months_back(today, n) for n in range(MONTHS, 1, -1)]
    for month in CommissionMonth.objects.filter(period__in=closable, status=CommissionMonth.Status.OPEN):
        services.month_close_start(actor=admin, period=month.period)
        services.month_close_finish(period=month.period)
    paid_until = _months_back(today, 3)
    for statement in Statement.objects.filter(period__in=closable[:-1], status=Statement.Status.PREPARED):
        services.statement_approve(actor=backoffice, statement_id=statement.pk, second_factor_verified=True)
        if statement.period <= paid_until:
            services.statement_mark_paid(actor=backoffice, statement_id=statement.pk, second_factor_verified=True)
    newest = closable[-1]
    rejected_before = Statement.objects.filter(status=Statement.Status.REJECTED).exists()
    first = Statement.objects.filter(period=newest, status=Statement.Status.PREPARED).order_by("pk").first()
    if first is not None and not rejected_before and not _rejection_in_history():
        services.statement_reject(
            actor=backoffice,
            statement_id=first.pk,
            reason=REJECTION_REASON,
            second_factor_verified=True,
        )
    stdout.write(
        f"  commissions: {len(closable)} months closed, statements approved and paid by back office; "
        f"{newest:%Y-%m} waits for approval, one statement rejected"
    )


REJECTION_REASON = (
    "The override for the firm manager appears twice; please check Alpha Invest's plan and prepare it again."
)


def _rejection_in_history() -> bool:
    """Whether a statement was ever rejected (the demo rejects one once, even after it was prepared again)."""
    from portal.approvals.models import Approval

    return Approval.objects.filter(kind=services.STATEMENT_KIND, state=Approval.State.REJECTED).exists()
