"""The one JSON error body (portal.core.errors) that the API, htmx fragments and pages share."""

import json

from django import forms
from django.core.exceptions import ValidationError

from portal.core.errors import error_body, error_details, error_json_response, form_error_details


def test_details_are_always_a_mapping_of_field_to_a_list_of_messages():
    assert error_details(None) == {}
    assert error_details({}) == {}
    assert error_details("Only drafts can be sent.") == {"non_field_errors": ["Only drafts can be sent."]}
    assert error_details(["One.", "Two."]) == {"non_field_errors": ["One.", "Two."]}
    assert error_details({"from": "The start must not be after the end."}) == {
        "from": ["The start must not be after the end."]
    }
    assert error_details({"__all__": ["Whole."], "amount": ["Too small.", "Not round."]}) == {
        "non_field_errors": ["Whole."],
        "amount": ["Too small.", "Not round."],
    }


def test_nested_errors_get_dotted_names():
    assert error_details({"attachments": {0: ["Not a PDF."], 2: ["Too big."]}}) == {
        "attachments.0": ["Not a PDF."],
        "attachments.2": ["Too big."],
    }
    assert error_details({"items": [{}, {"name": ["Required."]}]}) == {"items.1.name": ["Required."]}
    assert error_details({"portfolio": {"non_field_errors": ["Closed."]}}) == {"portfolio": ["Closed."]}


def test_django_validation_errors_become_their_messages():
    assert error_details({"iban": ValidationError(["Bad checksum.", "Wrong length."])}) == {
        "iban": ["Bad checksum.", "Wrong length."]
    }


def test_the_body_has_the_four_keys_and_a_json_response_for_pages():
    assert error_body(code="not_found", message="Not found.", status=404) == {
        "error": {"code": "not_found", "message": "Not found.", "status": 404, "details": {}}
    }
    response = error_json_response(
        code="invalid", message="Check the filters.", status=400, details={"year": ["Enter a whole number."]}
    )
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "error": {
            "code": "invalid",
            "message": "Check the filters.",
            "status": 400,
            "details": {"year": ["Enter a whole number."]},
        }
    }


def test_a_bound_forms_errors_in_the_same_shape():
    class Period(forms.Form):
        start = forms.DateField()
        end = forms.DateField()

        def clean(self):
            raise ValidationError("The period is reversed.")

    form = Period(data={"start": "soon", "end": "2026-01-01"})
    assert not form.is_valid()
    assert form_error_details(form) == {
        "start": ["Enter a valid date."],
        "non_field_errors": ["The period is reversed."],
    }
