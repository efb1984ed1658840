"""bnpl/pricing.py against answers worked out outside the code.

Every literal below was computed independently of the module: by hand, with a spreadsheet's PMT
formula re-typed in plain Python floats, or taken from the worked examples the EU published with the
APR formula (Directive 98/7/EC, Annex III, the same equation 2008/48/EC Annex I kept). The comment
next to each literal shows the independent calculation.
"""

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ImproperlyConfigured

from bnpl.pricing import (
    OptionNotOffered,
    PricingError,
    ScheduledPayment,
    add_months,
    annuity_payment,
    apr_of,
    payment_option,
    payment_options,
    year_fractions,
)

D = Decimal
CENT = D("0.01")


def monthly(rate_percent: str) -> Decimal:
    return D(rate_percent) / 100 / 12


# --- (1) the spreadsheet's PMT ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rate", "months", "expected"),
    [
        # PMT(9.9%/12, 12, -1000): 1000·0.00825 / (1 − 1.00825^−12); 1.00825^12 = 1.1036180,
        # so 8.25 · 1.1036180 / 0.1036180 = 87.86938… → 87.87
        ("1000", "9.9", 12, "87.87"),
        # PMT(5.9%/12, 6, -1000) = 169.546444… → 169.55
        ("1000", "5.9", 6, "169.55"),
        # PMT(11.9%/12, 24, -2500) = 117.566966… → 117.57
        ("2500", "11.9", 24, "117.57"),
        # PMT(11.9%/12, 24, -1000) = 47.026786… → 47.03
        ("1000", "11.9", 24, "47.03"),
        # PMT(0, 3, -100) = 100 / 3 = 33.333… → 33.33
        ("100", "0", 3, "33.33"),
    ],
)
def test_the_level_instalment_is_the_spreadsheet_pmt_to_the_cent(amount, rate, months, expected):
    payment = annuity_payment(amount=D(amount), monthly_rate=monthly(rate), instalments=months, quantum=CENT)

    assert payment == D(expected)


def test_a_twelve_month_plan_at_9_9_percent_matches_the_schedule_worked_by_hand():
    option = payment_option(key="monthly_12", amount=D("1000.00"), currency="EUR", start=date(2024, 5, 15))

    # Line 1: interest 1000 · 0.00825 = 8.25; principal 87.87 − 8.25 = 79.62.
    # Line 2: outstanding 920.38 · 0.00825 = 7.593… → 7.59; principal 87.87 − 7.59 = 80.28.
    assert option.schedule[0] == ScheduledPayment(1, date(2024, 6, 15), D("87.87"), D("79.62"), D("8.25"))
    assert option.schedule[1] == ScheduledPayment(2, date(2024, 7, 15), D("87.87"), D("80.28"), D("7.59"))
    # The level payment is 0.00062 above the exact annuity 87.86938, so the last line repays a
    # cent less: 87.14 principal left + 0.72 interest (87.14 · 0.00825 = 0.7189…) = 87.86.
    assert option.schedule[-1] == ScheduledPayment(12, date(2025, 5, 15), D("87.86"), D("87.14"), D("0.72"))
    assert [line.amount for line in option.schedule[:-1]] == [D("87.87")] * 11
    # 11 · 87.87 + 87.86 = 1054.43
    assert option.total_payable == D("1054.43")
    assert option.total_cost_of_credit == D("54.43")
    assert option.nominal_rate == D("9.90")
    assert option.instalments == 12
    assert option.currency == "EUR"
    assert option.amount == D("1000.00")


# --- (2) the APR: the directive's equation on published examples ------------------------------------


def test_the_apr_of_a_twelve_month_plan_at_9_9_percent_is_10_4():
    option = payment_option(key="monthly_12", amount=D("1000.00"), currency="EUR", start=date(2024, 5, 15))

    # With monthly intervals (t = k/12) the APR of a level annuity is the effective annual rate:
    # (1 + 0.099/12)^12 − 1 = 10.3618 %; the rounded payments give 10.3614 % (float bisection) → 10.4.
    assert option.apr == D("10.4")


@pytest.mark.parametrize(
    ("key", "expected_apr"),
    [
        # (1 + 0.059/12)^12 − 1 = 6.0622 % → 6.1
        ("monthly_6", "6.1"),
        # (1 + 0.119/12)^12 − 1 = 12.5710 % → 12.6
        ("monthly_24", "12.6"),
    ],
)
def test_the_apr_of_an_annuity_is_its_effective_annual_rate(key, expected_apr):
    option = payment_option(key=key, amount=D("1000.00"), currency="EUR", start=date(2024, 5, 15))

    assert option.apr == D(expected_apr)


def test_the_directives_example_of_two_yearly_repayments_gives_13_1():
    # 98/7/EC Annex III, third example: 1000 on 1 January 1994, 600 after one and after two years;
    # 1000 = 600/(1+i) + 600/(1+i)² "produces i = 0,1306623 rounded to 13,1 %".
    payments = [(date(1995, 1, 1), D("600")), (date(1996, 1, 1), D("600"))]

    assert apr_of(amount=D("1000"), payments=payments, start=date(1994, 1, 1)) == D("13.1")


def test_the_directives_example_with_a_fee_kept_back_gives_16_9():
    # 98/7/EC Annex III, second example: 1000 lent, 50 kept for expenses, so 950 drawn on
    # 1 January 1994 and 1200 repaid on 1 July 1995 → "rounded to 16,9 %". Counted as 18 equal
    # months: (1200/950)^(1/1.5) − 1 = 16.85 % → 16.9 (on 546/365 days it is 16.90 %: the same).
    payments = [(date(1995, 7, 1), D("1200"))]

    assert apr_of(amount=D("950"), payments=payments, start=date(1994, 1, 1)) == D("16.9")


def test_a_single_repayment_after_eighteen_months_counts_one_and_a_half_years():
    # 98/7/EC Annex III, first example (1000 → 1200 after 18 months) on the 12-equal-months year
    # that 2008/48/EC Annex I remark (c) allows: 1.2^(1/1.5) − 1 = 1.44^(1/3) − 1 = 12.92 % → 12.9.
    # (On the calendar basis, 546/365 years, the directive gives 12.96 % → 13.0.)
    payments = [(date(1995, 7, 1), D("1200"))]

    assert apr_of(amount=D("1000"), payments=payments, start=date(1994, 1, 1)) == D("12.9")


def test_an_interval_of_months_and_days_counts_the_days_in_a_365_day_year():
    # 1 January 2023 → 15 March 2023: two months counted back from 15 March reach 15 January, then
    # 14 days to 1 January; the year ending 15 January 2023 has 365 days. t = 2/12 + 14/365, and
    # 1.1^(1/t) − 1 = 59.1817 % (float bisection) → 59.2.
    payments = [(date(2023, 3, 15), D("1100"))]

    assert apr_of(amount=D("1000"), payments=payments, start=date(2023, 1, 1)) == D("59.2")


def test_an_interval_of_months_and_days_counts_the_days_of_a_leap_year_in_366():
    # 1 March 2024 → 11 May 2024: two months back reach 11 March, 10 days remain; the year ending
    # 11 March 2024 holds 29 February: 366 days. t = 2/12 + 10/366, 1.03^(1/t) − 1 = 16.4595 % → 16.5.
    payments = [(date(2024, 5, 11), D("1030"))]

    assert apr_of(amount=D("1000"), payments=payments, start=date(2024, 3, 1)) == D("16.5")


def test_fortnightly_payments_count_in_weeks_of_a_52_week_year():
    # 100 drawn, repaid 25 at once and 25.50 after 2, 4 and 6 weeks (t = 0, 2/52, 4/52, 6/52):
    # float bisection gives 29.4158 % → 29.4.
    start = date(2024, 5, 15)
    payments = [
        (start, D("25")),
        (date(2024, 5, 29), D("25.50")),
        (date(2024, 6, 12), D("25.50")),
        (date(2024, 6, 26), D("25.50")),
    ]

    assert apr_of(amount=D("100"), payments=payments, start=start) == D("29.4")


# --- (3) interest-free credit has an APR of 0.0 ------------------------------------------------------


def test_an_interest_free_monthly_plan_has_an_apr_of_zero():
    option = payment_option(key="monthly_3", amount=D("300.00"), currency="EUR", start=date(2024, 5, 15))

    assert option.apr == D("0.0")
    assert str(option.apr) == "0.0"
    assert option.nominal_rate == D("0.00")
    assert option.total_cost_of_credit == D("0.00")
    assert [line.interest for line in option.schedule] == [D("0.00")] * 3


def test_pay_in_4_is_four_interest_free_payments_every_two_weeks_from_the_start_date():
    option = payment_option(key="pay_in_4", amount=D("100.01"), currency="EUR", start=date(2024, 5, 15))

    # 100.01 / 4 = 25.0025 → 25.00 three times; the last carries the cent: 100.01 − 75.00 = 25.01.
    assert option.schedule == (
        ScheduledPayment(1, date(2024, 5, 15), D("25.00"), D("25.00"), D("0.00")),
        ScheduledPayment(2, date(2024, 5, 29), D("25.00"), D("25.00"), D("0.00")),
        ScheduledPayment(3, date(2024, 6, 12), D("25.00"), D("25.00"), D("0.00")),
        ScheduledPayment(4, date(2024, 6, 26), D("25.01"), D("25.01"), D("0.00")),
    )
    assert option.total_payable == D("100.01")
    assert option.total_cost_of_credit == D("0.00")
    assert option.apr == D("0.0")
    assert option.nominal_rate == D("0.00")
    assert str(option.label) == "Pay in 4 (every two weeks, interest-free)"


# --- (4) rounding: the principal adds up, the last line carries the remainder -------------------------


def test_pay_in_4_rounds_half_up_and_the_last_payment_takes_back_the_excess():
    option = payment_option(key="pay_in_4", amount=D("50.06"), currency="EUR", start=date(2024, 5, 15))

    # 50.06 / 4 = 12.515 → 12.52 (half up); 50.06 − 3 · 12.52 = 12.50.
    assert [line.amount for line in option.schedule] == [D("12.52"), D("12.52"), D("12.52"), D("12.50")]


def test_an_interest_free_monthly_plan_puts_the_remainder_on_the_last_instalment():
    option = payment_option(key="monthly_3", amount=D("100.00"), currency="EUR", start=date(2024, 5, 15))

    # 100 / 3 = 33.33…; 100 − 2 · 33.33 = 33.34.
    assert [line.amount for line in option.schedule] == [D("33.33"), D("33.33"), D("33.34")]


@pytest.mark.parametrize("key", ["monthly_3", "monthly_6", "monthly_12", "monthly_24"])
@pytest.mark.parametrize("amount", ["100.00", "333.33", "1234.57", "9999.99"])
def test_the_principal_adds_up_to_the_amount_and_only_the_last_line_differs(key, amount):
    option = payment_option(key=key, amount=D(amount), currency="EUR", start=date(2024, 1, 31))

    assert sum(line.principal for line in option.schedule) == D(amount)
    assert sum(line.amount for line in option.schedule) == option.total_payable
    assert option.total_payable - D(amount) == option.total_cost_of_credit
    assert len({line.amount for line in option.schedule[:-1]}) == 1
    for line in option.schedule:
        assert line.amount == line.principal + line.interest
        assert line.amount.as_tuple().exponent == -2
        assert line.principal > 0
    assert [line.number for line in option.schedule] == list(range(1, option.instalments + 1))


# --- (5) due dates: the same day every month, clamped to the month's end -------------------------------


def test_a_plan_started_on_the_31st_falls_due_on_each_months_last_day_and_comes_back_to_the_31st():
    option = payment_option(key="monthly_6", amount=D("600.00"), currency="EUR", start=date(2024, 1, 31))

    assert [line.due_date for line in option.schedule] == [
        date(2024, 2, 29),  # leap year
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
        date(2024, 7, 31),
    ]


def test_add_months_clamps_to_february_28_in_a_common_year_and_crosses_years():
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2024, 12, 15), 24) == date(2026, 12, 15)


def test_the_first_monthly_instalment_is_due_one_month_after_the_start():
    option = payment_option(key="monthly_24", amount=D("1000.00"), currency="EUR", start=date(2024, 12, 10))

    assert option.schedule[0].due_date == date(2025, 1, 10)
    assert option.schedule[-1].due_date == date(2026, 12, 10)


# --- (6) what is offered -------------------------------------------------------------------------


def keys_offered(amount: str, currency: str = "EUR") -> list[str]:
    return [option.key for option in payment_options(amount=D(amount), currency=currency, start=date(2024, 5, 15))]


def test_all_options_are_offered_inside_every_range_in_a_fixed_order():
    assert keys_offered("500.00") == ["pay_in_4", "monthly_3", "monthly_6", "monthly_12", "monthly_24"]


def test_options_outside_their_amount_range_are_not_offered():
    assert keys_offered("34.99") == []
    assert keys_offered("35.00") == ["pay_in_4"]
    assert keys_offered("99.99") == ["pay_in_4"]
    assert keys_offered("100.00") == ["pay_in_4", "monthly_3", "monthly_6", "monthly_12", "monthly_24"]
    assert keys_offered("1000.00") == ["pay_in_4", "monthly_3", "monthly_6", "monthly_12", "monthly_24"]
    assert keys_offered("1000.01") == ["monthly_3", "monthly_6", "monthly_12", "monthly_24"]
    assert keys_offered("10000.00") == ["monthly_3", "monthly_6", "monthly_12", "monthly_24"]
    assert keys_offered("10000.01") == []


def test_the_ranges_are_per_currency():
    # 500 CZK is about 20 EUR: below the pay-in-4 minimum of 900 CZK.
    assert keys_offered("500.00", "CZK") == []
    assert keys_offered("1000.00", "CZK") == ["pay_in_4"]


def test_asking_for_an_option_outside_its_range_says_what_the_range_is():
    with pytest.raises(OptionNotOffered, match=r"from 35 to 1000 EUR"):
        payment_option(key="pay_in_4", amount=D("1500.00"), currency="EUR", start=date(2024, 5, 15))


def test_rates_and_ranges_come_from_settings(settings):
    settings.BNPL_NOMINAL_RATES = {"monthly_6": "4.5", "monthly_12": 9.9}
    settings.BNPL_AMOUNT_LIMITS = {**settings.BNPL_AMOUNT_LIMITS, "pay_in_4": {"EUR": ["10", "50"]}}

    assert keys_offered("20.00") == ["pay_in_4"]
    assert keys_offered("500.00") == ["monthly_6", "monthly_12"]
    six = payment_option(key="monthly_6", amount=D("500.00"), currency="EUR", start=date(2024, 5, 15))
    # A JSON number (a float) is read through its shortest text, 9.9, never 9.9000000000000003552…
    twelve = payment_option(key="monthly_12", amount=D("500.00"), currency="EUR", start=date(2024, 5, 15))
    assert six.nominal_rate == D("4.50")
    assert twelve.nominal_rate == D("9.90")
    with pytest.raises(OptionNotOffered, match="not offered at the moment"):
        payment_option(key="monthly_24", amount=D("500.00"), currency="EUR", start=date(2024, 5, 15))


@pytest.mark.parametrize("rates", [{"monthly_6": "abc"}, {"monthly_6": "-1"}, {"monthly_6": "100"}])
def test_a_broken_rate_table_is_a_configuration_error_not_a_price(settings, rates):
    settings.BNPL_NOMINAL_RATES = rates

    with pytest.raises(ImproperlyConfigured, match="BNPL_NOMINAL_RATES"):
        payment_options(amount=D("500.00"), currency="EUR", start=date(2024, 5, 15))


# --- (7) bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (D("0"), "greater than zero"),
        (D("-100.00"), "greater than zero"),
        (D("100.001"), "more decimal places than EUR allows"),
        (D("NaN"), "decimal number"),
        (D("Infinity"), "decimal number"),
        (100.0, "never floating-point"),
        ("100.00", "decimal number"),
    ],
)
def test_a_bad_amount_is_refused_with_a_clear_message(amount, message):
    with pytest.raises(PricingError, match=message):
        payment_options(amount=amount, currency="EUR", start=date(2024, 5, 15))
    with pytest.raises(ValueError, match=message):
        payment_option(key="monthly_12", amount=amount, currency="EUR", start=date(2024, 5, 15))


@pytest.mark.parametrize("currency", ["JPY", "KWD", "eur", "XXX", "", None])
def test_currencies_without_two_minor_units_or_unknown_are_refused(currency):
    with pytest.raises(ValueError, match=r"is not supported; use one of: CHF, CZK, DKK, EUR, GBP, PLN, SEK, USD\."):
        payment_options(amount=D("100.00"), currency=currency, start=date(2024, 5, 15))


@pytest.mark.parametrize("currency", ["EUR", "USD", "GBP", "CHF", "PLN", "CZK", "SEK", "DKK"])
def test_every_supported_currency_is_priced(currency):
    options = payment_options(amount=D("5000.00"), currency=currency, start=date(2024, 5, 15))

    assert options
    assert {option.currency for option in options} == {currency}


def test_an_unknown_option_key_is_refused_naming_the_known_ones():
    with pytest.raises(
        ValueError, match=r"Unknown payment option “monthly_36”; the options are: pay_in_4, monthly_3, monthly_6"
    ):
        payment_option(key="monthly_36", amount=D("500.00"), currency="EUR", start=date(2024, 5, 15))


def test_a_timestamp_is_not_a_start_date():
    with pytest.raises(PricingError, match="calendar dates"):
        payment_options(amount=D("100.00"), currency="EUR", start=datetime(2024, 5, 15, 12, 0))


@pytest.mark.parametrize(
    ("amount", "payments", "message"),
    [
        (D("0"), [(date(2024, 6, 1), D("10"))], "positive decimal"),
        (D("100"), [], "at least one payment"),
        (D("100"), [(date(2024, 4, 1), D("110"))], "before the start date"),
        (D("100"), [(date(2024, 6, 1), D("-1"))], "zero or more"),
        (D("100"), [(date(2024, 5, 1), D("100"))], "do not describe a credit"),
        (D("100"), [(date(2024, 6, 1), D("0"))], "do not describe a credit"),
    ],
)
def test_apr_of_refuses_payments_that_describe_no_credit(amount, payments, message):
    with pytest.raises(PricingError, match=message):
        apr_of(amount=amount, payments=payments, start=date(2024, 5, 1))


def test_an_odd_interval_counts_whole_months_back_from_the_payment_then_days_to_the_start():
    # 31 January 2023 → 15 March 2023: two months back from 15 March is 15 January, before the
    # start, so one month (back to 15 February) and 15 days to 31 January; the year ending
    # 15 February 2023 has 365 days. 31 January → 28 February is one whole month (month end clamped).
    start = date(2023, 1, 31)

    assert year_fractions(start=start, dates=[date(2023, 3, 15)]) == [Fraction(1, 12) + Fraction(15, 365)]
    assert year_fractions(start=start, dates=[start, date(2023, 2, 28), date(2024, 1, 31)]) == [
        Fraction(0),
        Fraction(1, 12),
        Fraction(1),
    ]
    assert year_fractions(start=start, dates=[date(2023, 2, 14), date(2023, 2, 28)]) == [
        Fraction(2, 52),
        Fraction(4, 52),
    ]
