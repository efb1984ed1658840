"""An integrator's first hour: a client generated from the live schema, used against the live server.

openapi-python-client (requirements-dev) generates the client into a temporary folder from the
schema the server publishes; the test then imports it and goes through a short script with API
keys: list clients, read one, create a signature request with an attachment, download a report's
PDF, and see a read-only key refused with the typed error. It needs nothing but the dev
requirements and the live server.
"""

import datetime
import importlib
import io
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from signing.models import SignatureRequest
from tests.signing.conftest import IBAN, pdf_bytes

pytestmark = [pytest.mark.live_api, pytest.mark.django_db(transaction=True)]

PACKAGE = "pz_generated_client"
# No formatter run afterwards: the generated code is imported, not read, and ruff need not be on PATH.
GENERATOR_CONFIG = f"project_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\npost_hooks: []\n"


@pytest.fixture
def generated(api_world, live_server, tmp_path):
    """The generated package, imported from its temporary folder (and forgotten afterwards)."""
    request = urllib.request.Request(
        f"{live_server.url}/api/schema/?format=json",
        headers={"Authorization": f"Api-Key {api_world.keys['broker1']}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        (tmp_path / "schema.json").write_bytes(response.read())
    (tmp_path / "config.yaml").write_text(GENERATOR_CONFIG)
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--config",
            str(tmp_path / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # A warning means a part of the API is missing from the client (as the PDF downloads once were).
    assert result.returncode == 0 and "Warning" not in result.stdout, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def api(tag: str, operation: str):
    """The generated module of one operation (`api("clients", "clients_list").sync(…)`)."""
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")


def models():
    return importlib.import_module(f"{PACKAGE}.models")


def test_a_generated_client_runs_an_integrators_script(generated, api_world, live_server):
    book, keys = api_world.book, api_world.keys
    client = generated.AuthenticatedClient(
        base_url=live_server.url, token=keys["broker1"], prefix="Api-Key", raise_on_unexpected_status=True
    )
    m = models()

    # List clients, inactive first, then by name (a repeated `ordering`, with named enum members).
    listed = api("clients", "clients_list").sync_detailed(
        client=client, ordering=[m.ClientsListOrderingItem.STATUS_DESC, m.ClientsListOrderingItem.NAME]
    )
    assert listed.status_code == 200
    assert [c.number for c in listed.parsed.results] == ["C1002", "C1001"]
    assert listed.headers["ETag"]

    # One client's details; a client without an e-mail address parses too (null, not "").
    anna = api("clients", "clients_retrieve").sync(client=client, client_id=book.anna.pk)
    bert = api("clients", "clients_retrieve").sync(client=client, client_id=book.bert.pk)
    assert anna.email == "anna@example.com" and bert.email is None

    # A signature request with a PDF attached, sent at once (multipart, built by the client).
    created = api("signature_requests", "signature_requests_create").sync_detailed(
        client=client,
        body=m.SignatureRequestCreateRequest(
            recipient=str(book.anna.pk),
            kind=m.SignatureRequestKindEnum.FUND_TRANSFER,
            amount="980.00",
            currency=m.CurrencyEnum.EUR,
            portfolio="P1",
            payee_name="Max Mustermann",
            payee_iban=IBAN,
            attachments=[
                importlib.import_module(f"{PACKAGE}.types").File(
                    payload=io.BytesIO(pdf_bytes("order")), file_name="order.pdf", mime_type="application/pdf"
                )
            ],
            send=True,
        ),
    )
    assert created.status_code == 201, created.content
    request = created.parsed
    assert request.status == m.SignatureRequestStatusEnum.SENT
    assert [a.name for a in request.attachments] == ["order.pdf"]
    # Timestamps come in UTC.
    assert request.created_at.utcoffset() == datetime.timedelta(0)
    assert SignatureRequest.objects.get(pk=request.id).amount == 980

    # A ready report: its absolute link, then the PDF itself.
    report = api_world.reports["broker1"]
    detail = api("reports", "reports_retrieve").sync(client=client, report_id=report.pk)
    assert detail.download_url == f"{live_server.url}/api/v1/reports/{report.pk}/download/"
    pdf = api("reports", "reports_download").sync(client=client, report_id=report.pk)
    assert pdf.payload.read().startswith(b"%PDF")

    # A read-only key may not write: 403, parsed as the typed error.
    reader = generated.AuthenticatedClient(base_url=live_server.url, token=api_world.read_only_key, prefix="Api-Key")
    refused = api("signature_requests", "signature_requests_create").sync_detailed(
        client=reader,
        body=m.SignatureRequestCreateRequest(recipient=str(book.anna.pk), kind=m.SignatureRequestKindEnum.DOCUMENT),
    )
    assert refused.status_code == 403
    error = refused.parsed.error
    assert (error.code, error.status, error.details.additional_properties) == ("scope_denied", 403, {})
    assert SignatureRequest.objects.count() == 3

    # A bad filter: a typed 400 whose details name the field.
    bad = api("clients", "clients_list").sync_detailed(client=client, assets_min=5.0, assets_max=1.0)
    assert bad.status_code == 400
    assert json.loads(bad.content)["error"]["details"] == {
        "assets_max": ["“Assets to” must not be less than “Assets from”."]
    }
    assert bad.parsed.error.details.additional_properties == {
        "assets_max": ["“Assets to” must not be less than “Assets from”."]
    }
