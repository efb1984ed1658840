"""Chart.js input for `static/js/charts.js`, put into a page with `json_script` (no inline scripts).

Floats are fine here: the figures are drawn, never summed.
"""

from django.utils.translation import gettext as _

# One colour per asset class, so a class keeps its colour on every chart.
ASSET_CLASS_COLOURS = {
    "equity": "#0b5ed7",
    "bond": "#198754",
    "fund": "#6f42c1",
    "etf": "#20c997",
    "commodity": "#fd7e14",
    "cash": "#adb5bd",
    "other": "#d63384",
}


def _float(value):
    return None if value is None else float(value)


def line_chart(points, label: str) -> dict:
    """A line from (ISO day, value) pairs, read as percentages."""
    return {
        "label": str(label),
        "percent": True,
        "labels": [day for day, _ in points],
        "values": [value for _, value in points],
    }


def period_bars(periods) -> dict:
    """The cumulative TWR and MWR of each reporting period side by side, as two sets of bars.

    `periods` are the rows of `selectors.performance_summary` (code, twr, mwr); a figure that
    could not be computed is a gap. Both figures are cumulative over the period (never
    annualised: bars of a month and of three years would not compare), and say so in the legend.
    """
    return {
        "type": "bar",
        "percent": True,
        "labels": [p["code"] for p in periods],
        "datasets": [
            {"label": _("Time-weighted return, cumulative"), "values": [_float(p["twr"]) for p in periods]},
            {"label": _("Money-weighted return, cumulative"), "values": [_float(p["mwr"]) for p in periods]},
        ],
    }


def allocation_doughnut(allocation) -> dict:
    """The weights of the asset classes, from `zone_selectors.allocation_of`."""
    return {
        "type": "doughnut",
        "percent": True,
        "label": _("Asset-class allocation"),
        "labels": [str(row["label"]) for row in allocation],
        "values": [float(row["weight"]) for row in allocation],
        "colors": [ASSET_CLASS_COLOURS.get(row["asset_class"], "#6c757d") for row in allocation],
    }
