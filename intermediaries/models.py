from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clients.models import Client
from portal.accounts.models import Organisation

MONEY = {"max_digits": 20, "decimal_places": 2}
QUANTITY = {"max_digits": 24, "decimal_places": 8}
PRICE = {"max_digits": 20, "decimal_places": 6}
RATE = {"max_digits": 20, "decimal_places": 10}


class Intermediary(models.Model):
    """A broker's identity in the core system: the number the feed refers to."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intermediary")
    firm = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="intermediaries")
    number = models.CharField(_("intermediary number"), max_length=32, unique=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("intermediary")
        verbose_name_plural = _("intermediaries")

    def __str__(self):
        return f"{self.user} ({self.number})"


class AssetClass(models.TextChoices):
    EQUITY = "equity", _("Equities")
    BOND = "bond", _("Bonds")
    FUND = "fund", _("Funds")
    ETF = "etf", _("ETFs")
    COMMODITY = "commodity", _("Commodities")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class Instrument(models.Model):
    isin = models.CharField("ISIN", max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=200)
    asset_class = models.CharField(_("asset class"), max_length=16, choices=AssetClass.choices)
    currency = models.CharField(_("currency"), max_length=3)
    # The fund's ongoing charges (TER) in percent a year, for the ex-post costs statement; empty
    # when unknown or not a fund. The core feed does not carry it yet: set in admin (the demo sets it).
    ongoing_charges = models.DecimalField(
        _("ongoing charges (% a year)"),
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Total expense ratio of a fund or ETF, e.g. 0.20 for 0.20 % a year."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")

    def __str__(self):
        return f"{self.name} ({self.isin})"


class Price(models.Model):
    """A daily close in the instrument's currency."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="prices")
    date = models.DateField(_("date"))
    close = models.DecimalField(_("close"), **PRICE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instrument", "date"], name="price_instrument_date_uniq")]
        verbose_name = _("price")
        verbose_name_plural = _("prices")

    def __str__(self):
        return f"{self.instrument_id} {self.date} {self.close}"


class FxRate(models.Model):
    """How many units of `currency` one euro buys on `date` (EUR itself is always 1)."""

    currency = models.CharField(_("currency"), max_length=3)
    date = models.DateField(_("date"))
    rate = models.DecimalField(_("rate per EUR"), **RATE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["currency", "date"], name="fxrate_currency_date_uniq")]
        verbose_name = _("FX rate")
        verbose_name_plural = _("FX rates")

    def __str__(self):
        return f"EUR/{self.currency} {self.date} {self.rate}"


class Portfolio(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("portfolio status", "Open")
        CLOSED = "closed", pgettext_lazy("portfolio status", "Closed")

    number = models.CharField(_("portfolio number"), max_length=32, unique=True)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="portfolios")
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    opened_on = models.DateField(_("opened on"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    # Latest valuation, denormalised for lists and the dashboard.
    market_value = models.DecimalField(_("market value"), **MONEY, default=Decimal("0"))
    valued_on = models.DateField(_("valued on"), null=True, blank=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("portfolio")
        verbose_name_plural = _("portfolios")

    def __str__(self):
        return f"{self.name} ({self.number})"


class TransactionType(models.TextChoices):
    BUY = "buy", _("Buy")
    SELL = "sell", _("Sell")
    DEPOSIT = "deposit", _("Deposit")
    WITHDRAWAL = "withdrawal", _("Withdrawal")
    DIVIDEND = "dividend", _("Dividend")
    INTEREST = "interest", _("Interest")
    FEE = "fee", _("Fee")
    TAX = "tax", _("Tax")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    FEE_REFUND = "fee_refund", _("Fee refund")
    REVERSAL = "reversal", _("Reversal")
    WRITE_OFF = "write_off", _("Write-off")
    SPLIT = "split", _("Split")


RATIO = {"max_digits": 20, "decimal_places": 10}


class Transaction(models.Model):
    """A booking from the core system. Amount is positive; the type decides the direction.

    Three kinds refer to something else: a reversal to the booking it cancels (`reference`); a
    transfer between two portfolios of one client names the other portfolio on both legs
    (`counterpart_portfolio`), and its receiving leg refers to the sending one (`reference`); a
    split carries its `ratio`. docs/core-feed.md has the rules.
    """

    external_id = models.CharField(_("core system id"), max_length=64, unique=True)
    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="transactions")
    type = models.CharField(_("type"), max_length=16, choices=TransactionType.choices)
    trade_date = models.DateField(_("trade date"))
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY, default=Decimal("0"))
    price = models.DecimalField(_("price"), **PRICE, default=Decimal("0"))
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    ratio = models.DecimalField(
        _("ratio"), **RATIO, null=True, blank=True, help_text=_("Units after a split per unit before.")
    )
    # RESTRICT: a booking that another refers to cannot be deleted alone, only with its portfolio.
    reference = models.ForeignKey(
        "self",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="referenced_by",
        verbose_name=_("refers to"),
    )
    counterpart_portfolio = models.ForeignKey(
        Portfolio,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("other portfolio"),
    )
    # Written by the valuation, not the feed: the cost basis the sending leg of an internal transfer
    # took out of its portfolio (portfolio currency), which the receiving portfolio carries on.
    transfer_cost = models.DecimalField(_("cost basis transferred"), **MONEY, null=True, blank=True)

    class Meta:
        ordering = ["-trade_date", "-id"]
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        indexes = [
            models.Index(fields=["portfolio", "-trade_date", "-id"], name="txn_portfolio_date_idx"),
            models.Index(fields=["portfolio", "type", "-trade_date"], name="txn_portfolio_type_idx"),
        ]
        constraints = [
            # One reversal per booking, and one receiving leg per sending leg.
            models.UniqueConstraint(fields=["reference", "type"], name="txn_reference_type_uniq"),
        ]

    def __str__(self):
        return f"{self.trade_date} {self.get_type_display()} {self.amount} {self.currency}"


class Holding(models.Model):
    """A position over a span of days: quantity and cost basis from `valid_from` until `valid_to`.

    One row per change, written by the valuation task, so positions on any date are one indexed
    query instead of a replay of the transactions.
    """

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="holdings")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)  # exclusive; null means still held
    quantity = models.DecimalField(**QUANTITY)
    cost = models.DecimalField(_("cost basis"), **MONEY)  # in the portfolio's currency

    class Meta:
        indexes = [models.Index(fields=["portfolio", "valid_from", "valid_to"], name="holding_span_idx")]

    def __str__(self):
        return f"{self.portfolio_id} {self.instrument_id} {self.quantity} from {self.valid_from}"


class Valuation(models.Model):
    """One portfolio on one day, in the portfolio's currency: value, flows, and the day's return."""

    class Flag(models.IntegerChoices):
        STALE_PRICE = 1, _("A price was missing; the last known price was used.")
        NO_START_VALUE = 2, _("The day began with no value; its return counts from the first inflow.")
        NEGATIVE_CASH = 4, _("Cash was negative at the end of the day.")
        EMPTIED = 8, _("The portfolio was emptied; the return restarts with the next inflow.")
        INCOME_WITHOUT_POSITION = 16, _("Income arrived for a position no longer held.")
        MISSING_FX = 32, _("An exchange rate was missing; the last known rate was used.")
        SHORT_POSITION = 64, _("More was sold than held; the position went short.")

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="valuations")
    date = models.DateField()
    market_value = models.DecimalField(**MONEY)
    cash = models.DecimalField(**MONEY)
    inflow = models.DecimalField(**MONEY, default=Decimal("0"))  # external, counted at start of day
    outflow = models.DecimalField(**MONEY, default=Decimal("0"))  # external, counted at end of day
    daily_return = models.DecimalField(max_digits=24, decimal_places=12)
    twr_index = models.DecimalField(max_digits=24, decimal_places=12)  # growth of 1 since inception
    flags = models.PositiveIntegerField(default=0)
    # The same figures in EUR, so a book's series is one SUM ... GROUP BY date across currencies.
    market_value_eur = models.DecimalField(**MONEY)
    inflow_eur = models.DecimalField(**MONEY, default=Decimal("0"))
    outflow_eur = models.DecimalField(**MONEY, default=Decimal("0"))
    # The part of the flows that moved between two portfolios of the same client: a flow of the
    # portfolio, not of the client or the book, whose series subtract it.
    internal_inflow_eur = models.DecimalField(**MONEY, default=Decimal("0"))
    internal_outflow_eur = models.DecimalField(**MONEY, default=Decimal("0"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portfolio", "date"], name="valuation_portfolio_date_uniq")]

    def __str__(self):
        return f"{self.portfolio_id} {self.date} {self.market_value}"


class BookValuation(models.Model):
    """A broker's whole book (or a firm's) on one day, in EUR: what the dashboard reads."""

    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    firm = models.ForeignKey(Organisation, on_delete=models.CASCADE, null=True, related_name="+")
    date = models.DateField()
    market_value = models.DecimalField(**MONEY)
    inflow = models.DecimalField(**MONEY, default=Decimal("0"))
    outflow = models.DecimalField(**MONEY, default=Decimal("0"))
    daily_return = models.DecimalField(max_digits=24, decimal_places=12)
    twr_index = models.DecimalField(max_digits=24, decimal_places=12)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["advisor", "date"], name="bookval_advisor_date_uniq"),
            models.UniqueConstraint(fields=["firm", "date"], name="bookval_firm_date_uniq"),
            models.CheckConstraint(
                condition=models.Q(advisor__isnull=True) ^ models.Q(firm__isnull=True), name="bookval_one_scope"
            ),
        ]

    def __str__(self):
        return f"{self.advisor_id or self.firm_id} {self.date} {self.market_value}"


class Allocation(models.Model):
    """A portfolio's latest value per asset class, in EUR: allocation charts and the asset-class filter."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="allocations")
    asset_class = models.CharField(max_length=16, choices=AssetClass.choices)
    market_value_eur = models.DecimalField(**MONEY)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portfolio", "asset_class"], name="allocation_uniq")]
        indexes = [models.Index(fields=["asset_class", "portfolio"], name="allocation_class_idx")]

    def __str__(self):
        return f"{self.portfolio_id} {self.asset_class} {self.market_value_eur}"
