from django.contrib import admin

from portal.core.admin import ReadOnlyAdmin

from .models import FxRate, Instrument, Intermediary, Portfolio, Price, Transaction


@admin.register(Intermediary)
class IntermediaryAdmin(admin.ModelAdmin):
    list_display = ["number", "user", "firm"]
    list_select_related = ["user", "firm"]
    search_fields = ["number", "user__email"]
    raw_id_fields = ["user"]


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["isin", "name", "asset_class", "currency"]
    list_filter = ["asset_class", "currency"]
    search_fields = ["isin", "name"]


@admin.register(Portfolio)
class PortfolioAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "client", "currency", "market_value", "valued_on", "status"]
    list_filter = ["status", "currency"]
    search_fields = ["number", "client__number", "client__last_name"]
    list_select_related = ["client"]
    raw_id_fields = ["client"]
    readonly_fields = ["market_value", "valued_on"]


class ReadOnlyFeedAdmin(ReadOnlyAdmin):
    """Feed data comes from the core system: back office reads it here, the import writes it."""


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyFeedAdmin):
    list_display = ["external_id", "trade_date", "portfolio", "type", "instrument", "amount", "currency"]
    list_filter = ["type"]
    search_fields = ["external_id", "portfolio__number"]
    list_select_related = ["portfolio", "instrument"]
    date_hierarchy = "trade_date"


@admin.register(Price)
class PriceAdmin(ReadOnlyFeedAdmin):
    list_display = ["instrument", "date", "close"]
    list_select_related = ["instrument"]
    search_fields = ["instrument__isin"]
    date_hierarchy = "date"


@admin.register(FxRate)
class FxRateAdmin(ReadOnlyFeedAdmin):
    list_display = ["currency", "date", "rate"]
    list_filter = ["currency"]
    date_hierarchy = "date"
