"""Figures in the reader's language: separators, grouping and rounding half up."""

from decimal import Decimal

import pytest
from django.utils import translation

from portal.core.templatetags.portal_format import money, percent, quantity, signed_class


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "1,234,567.90 EUR"), ("de", "1.234.567,90 EUR"), ("ru", "1\xa0234\xa0567,90 EUR")],
)
def test_money_uses_the_languages_separators(language, expected):
    with translation.override(language):
        assert money(Decimal("1234567.895"), "EUR") == expected


def test_figures_are_rounded_half_up_not_truncated():
    with translation.override("en"):
        assert money(Decimal("0.129"), "EUR") == "0.13 EUR"
        assert money(Decimal("-2.005"), "EUR") == "-2.01 EUR"
        assert percent(Decimal("0.123456")) == "12.35 %"
        assert percent(Decimal("-0.0000001")) == "0.00 %"  # no minus on a figure shown as zero


def test_quantities_show_only_the_places_they_have():
    with translation.override("de"):
        assert quantity(Decimal("1500.000000")) == "1.500"
        assert quantity(Decimal("0.12500")) == "0,125"


def test_missing_or_unreadable_figures_show_a_dash():
    assert money(None) == "–"
    assert money("n/a", "EUR") == "–"
    assert percent(None) == "–"
    assert quantity(None) == "–"
    assert signed_class("n/a") == ""
