"""A check loaded into schemathesis by tests/api/test_schemathesis.py (SCHEMATHESIS_HOOKS).

Some operations answer 400 to input the schema allows, because the rule cannot be written in
OpenAPI: a range whose start lies after its end, or a reference in a query or body to an object
that is not the caller's. schemathesis.toml lets those operations answer 400 to valid input; this
check keeps that allowance narrow: such a 400 must name only the fields whose rules the
operation documents, in the API's error format.
"""

import schemathesis

CONTENT_FIELDS = {
    "recipient",
    "kind",
    "title",
    "message",
    "amount",
    "currency",
    "portfolio",
    "payee_name",
    "payee_iban",
    "payment_reference",
    "product_name",
    "attachments",
    "non_field_errors",
}
# A buy button's rules (bnpl/api/buttons.py REFUSED): amounts in whole cents and above zero, a supported
# currency, named shipping options; drf-spectacular's decimal pattern also lets an empty string through.
BUTTON_FIELDS = {"name", "unit_price", "currency", "tax_rate", "shipping_options", "image_url", "description"}
BUSINESS_RULE_FIELDS = {
    "GET /api/v1/clients/": {"assets_max", "broker"},
    "GET /api/v1/clients/{client_id}/performance/": {"from"},
    "GET /api/v1/clients/{client_id}/transactions/": {"date_to"},
    "GET /api/v1/commissions/accruals/": {"date_to"},
    "POST /api/v1/reports/": {"period_start", "period_end", "client_id", "broker_id", "non_field_errors"},
    "POST /api/v1/signature-requests/": CONTENT_FIELDS,
    "POST /api/v1/signature-requests/{request_id}/cancel/": {"non_field_errors"},
    "POST /api/v1/bnpl/buttons/": BUTTON_FIELDS,
    "PATCH /api/v1/bnpl/buttons/{button_id}/": BUTTON_FIELDS,
}


@schemathesis.check
def business_rejections_name_documented_fields(ctx, response, case):
    if response.status_code != 400 or case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    allowed = BUSINESS_RULE_FIELDS.get(case.operation.label)
    if allowed is None:
        return None  # positive_data_acceptance already refuses a 400 here
    error = response.json()["error"]
    # `attachments.0` is a rule about an attachment.
    named = {name.split(".")[0] for name in error["details"]}
    if error["code"] != "invalid" or not named or not named <= allowed:
        raise AssertionError(
            f"A 400 to schema-valid input must name documented business rules ({sorted(allowed)}), "
            f"got code {error['code']!r} and fields {sorted(named)}"
        )
    return None
