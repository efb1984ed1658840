"""signing in the client zone: the "What waits for you" panel, the signed requests on the documents
page (with their "new" badge), the data-export part, and the client's pages at their zone addresses."""

import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients import zone
from portal.audit.models import AuditEvent
from signing import client_zone
from signing.models import SignatureEvidence, SignatureRequest, SigningCodeSend

from .conftest import document, pdf_bytes, request_code, sign, transfer

pytestmark = pytest.mark.django_db


def signed_with_pdf(broker, client_record, user, **fields) -> SignatureRequest:
    """A request the client signed, with a stand-in for its rendered PDF (rendering is tested in test_pdf.py)."""
    request = transfer(broker, client_record, attachments=[], **fields)
    sign(request, user, request_code(request, user))
    # Out of the resend minute and the daily count: the next request's code may be sent at once.
    SigningCodeSend.objects.update(created_at="2000-01-01T00:00:00Z")
    evidence = SignatureEvidence.objects.get(request=request)
    evidence.pdf.save("signed.pdf", ContentFile(pdf_bytes(f"signed {request.pk}")), save=True)
    return SignatureRequest.objects.get(pk=request.pk)


@pytest.fixture
def requests(cast, book):
    """client1 (Anna): two waiting, one draft, one signed with its PDF, one declined; client2 (Bert): one waiting."""
    return {
        "waiting": transfer(cast.broker1, book.anna, attachments=[], amount="100.00", payment_reference="First"),
        "profile": document(cast.broker1, book.anna, title="Investor profile"),
        "draft": transfer(cast.broker1, book.anna, attachments=[], send=False, amount="300.00"),
        "signed": signed_with_pdf(cast.broker1, book.anna, cast.client1, amount="400.00"),
        "bert": transfer(cast.broker1, book.bert, attachments=[], amount="500.00", portfolio_reference="P2"),
    }


# --- the home panel -------------------------------------------------------------------------


def test_the_home_panel_lists_what_waits_for_the_clients_signature(cast, book, requests, login_as):
    page = login_as(cast.client1).get(reverse("clients:home"))

    assert page.status_code == 200
    panel = next(p for p in page.context["panels"] if p.key == "signing_waiting")
    assert {r.pk for r in panel.context["requests"]} == {requests["waiting"].pk, requests["profile"].pk}
    assert panel.context["count"] == 2
    assert "What waits for you" in page.text
    for name in ("waiting", "profile"):
        assert f'href="/client/sign/{requests[name].pk}/"' in page.text
    for name in ("draft", "signed", "bert"):
        assert f'href="/client/sign/{requests[name].pk}/"' not in page.text


def test_the_most_urgent_request_comes_first_and_a_past_deadline_is_left_out(cast, book, requests, login_as):
    now = timezone.now()
    SignatureRequest.objects.filter(pk=requests["profile"].pk).update(expires_at=now + timedelta(days=1))
    SignatureRequest.objects.filter(pk=requests["waiting"].pk).update(expires_at=now + timedelta(days=5))
    late = transfer(cast.broker1, book.anna, attachments=[], amount="600.00")
    SignatureRequest.objects.filter(pk=late.pk).update(expires_at=now - timedelta(minutes=1))

    page = login_as(cast.client1).get(reverse("clients:home"))

    panel = next(p for p in page.context["panels"] if p.key == "signing_waiting")
    assert [r.pk for r in panel.context["requests"]] == [requests["profile"].pk, requests["waiting"].pk]


def test_the_panel_shows_five_and_links_to_the_rest(cast, book, login_as):
    for n in range(7):
        transfer(cast.broker1, book.anna, attachments=[], amount=f"{n + 1}.00")

    page = login_as(cast.client1).get(reverse("clients:home"))

    panel = next(p for p in page.context["panels"] if p.key == "signing_waiting")
    assert len(panel.context["requests"]) == 5 and panel.context["count"] == 7 and panel.context["more"]
    assert 'href="/client/sign/">All documents to sign</a>' in page.text


def test_when_nothing_waits_there_is_no_panel(cast, book, login_as):
    signed_with_pdf(cast.broker1, book.anna, cast.client1)

    page = login_as(cast.client1).get(reverse("clients:home"))

    assert "signing_waiting" not in [p.key for p in page.context["panels"]]
    assert 'data-testid="zone-waiting"' not in page.text


# --- the documents page ---------------------------------------------------------------------


def test_signed_requests_are_documents_with_their_pdf_the_latest_first(cast, book, requests, login_as):
    later = signed_with_pdf(cast.broker1, book.anna, cast.client1, amount="700.00")
    signed_with_pdf(cast.broker1, book.bert, cast.client2, amount="800.00", portfolio_reference="P2")
    # A signed request whose PDF is not rendered yet is not offered.
    pending = transfer(cast.broker1, book.anna, attachments=[], amount="900.00")
    sign(pending, cast.client1, request_code(pending, cast.client1))

    page = login_as(cast.client1).get(reverse("clients:documents"))

    section = next(s for s in page.context["sections"] if s.source.key == "signed_requests")
    assert [d.url for d in section.documents] == [
        f"/signing/requests/{later.pk}/signed.pdf?download=1",
        f"/signing/requests/{requests['signed'].pk}/signed.pdf?download=1",
    ]
    assert {d.kind for d in section.documents} == {"Signed request"}
    assert all(d.is_new for d in section.documents)
    assert section.documents[0].title == later.title
    assert section.documents[0].date == timezone.localdate(later.signed_at)


def test_a_signed_pdf_is_new_until_the_client_downloads_it(cast, book, requests, login_as):
    url = reverse("signing:signed-pdf", args=[requests["signed"].pk])

    # The broker's download does not count.
    assert login_as(cast.broker1).get(url, {"download": "1"}).status_code == 200
    client = login_as(cast.client1)
    assert client.get(reverse("clients:documents")).text.count('data-testid="new-badge"') == 1

    response = client.get(url, {"download": "1"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.get(url)  # a second download changes nothing

    assert 'data-testid="new-badge"' not in client.get(reverse("clients:documents")).text
    events = AuditEvent.objects.filter(action="signing.signed_pdf_downloaded", object_id=str(requests["signed"].pk))
    assert [(e.actor, e.object_type) for e in events] == [(cast.client1, "signing.signaturerequest")]


def test_another_client_cannot_download_the_signed_pdf(cast, book, requests, login_as):
    url = reverse("signing:signed-pdf", args=[requests["signed"].pk])

    assert login_as(cast.client2).get(url, {"download": "1"}).status_code == 404
    assert SignatureEvidence.objects.get(request=requests["signed"]).client_downloaded_at is None


def test_without_signed_requests_the_section_says_where_they_will_appear(cast, book, login_as):
    page = login_as(cast.client2).get(reverse("clients:documents"), {"kind": "signed_requests"})

    assert page.status_code == 200
    assert "Requests you sign appear here with their signed PDF." in page.text


def test_the_pages_run_a_bounded_number_of_queries_with_more_requests(
    cast, book, login_as, django_assert_max_num_queries
):
    def grow(count):
        for n in range(count):
            transfer(cast.broker1, book.anna, attachments=[], amount=f"{n + 1}.00")
            signed_with_pdf(cast.broker1, book.anna, cast.client1, amount=f"{n + 1}.50")

    client = login_as(cast.client1)
    grow(1)
    budgets = {}
    for name in ("clients:home", "clients:documents"):
        with CaptureQueriesContext(connection) as small:
            assert client.get(reverse(name)).status_code == 200
        budgets[name] = len(small.captured_queries)
    grow(6)
    for name, budget in budgets.items():
        with django_assert_max_num_queries(budget):
            assert client.get(reverse(name)).status_code == 200


# --- the data export ------------------------------------------------------------------------


def test_the_export_holds_the_clients_requests_and_their_signed_pdfs(cast, book, requests):
    SignatureRequest.objects.filter(pk=requests["signed"].pk).update(
        status=SignatureRequest.Status.PROCESSED, handling_comment="Internal: booked by Bruno"
    )
    part = next(p for p in zone.export_parts() if p.key == "signature_requests")

    data, files = part.build(book.anna)

    assert json.loads(json.dumps(data)) == data  # plain JSON
    by_reference = {row["reference"]: row for row in data}
    assert set(by_reference) == {requests[n].short_reference for n in ("waiting", "profile", "signed")}
    signed = by_reference[requests["signed"].short_reference]
    assert signed["status"] == "processed" and signed["amount"] == "400.00" and signed["signed_at"]
    evidence = signed["evidence"]
    assert evidence["content_hash"] == requests["signed"].content_hash
    assert evidence["mobile_phone"] and "+4915112345001" not in json.dumps(data)
    assert evidence["signed_pdf"] == f"signed/{requests['signed'].short_reference}-signed.pdf"
    assert by_reference[requests["waiting"].short_reference]["evidence"] is None
    assert "Internal" not in json.dumps(data) and "handling_comment" not in signed
    assert [f.name for f in files] == [evidence["signed_pdf"]]
    assert files[0].content() == pdf_bytes(f"signed {requests['signed'].pk}")


def test_the_export_of_another_client_or_a_client_without_login_holds_nothing_of_anna(cast, book, requests):
    bert_data, bert_files = client_zone.export_part(book.bert)
    carla_data, carla_files = client_zone.export_part(book.carla)

    assert [row["reference"] for row in bert_data] == [requests["bert"].short_reference]
    assert bert_files == []
    assert (carla_data, carla_files) == ([], [])


# --- the client's pages in the zone ---------------------------------------------------------


def test_the_client_pages_live_in_the_zone(cast, book, requests, login_as):
    pk = requests["waiting"].pk
    assert reverse("signing:inbox") == "/client/sign/"
    assert reverse("signing:inbox-detail", args=[pk]) == f"/client/sign/{pk}/"
    assert reverse("signing:sign", args=[pk]) == f"/client/sign/{pk}/sign/"

    client = login_as(cast.client1)
    for url, active in (("/client/sign/", "/client/sign/"), (f"/client/sign/{pk}/", "/client/sign/")):
        page = client.get(url)
        assert page.status_code == 200, url
        # The zone's menu, with "Documents to sign" highlighted on the list and on a request.
        assert f'<a class="nav-link active" aria-current="page" href="{active}">Documents to sign</a>' in page.text
        assert 'href="/client/documents/">Documents</a>' in page.text
        assert 'href="/client/adviser/">My adviser</a>' in page.text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/signing/inbox/", "/client/sign/"),
        ("/signing/inbox/?page=2", "/client/sign/?page=2"),
        ("/signing/inbox/{pk}/", "/client/sign/{pk}/"),
        ("/signing/inbox/{pk}/code/status/", "/client/sign/{pk}/code/status/"),
    ],
)
def test_the_old_addresses_lead_to_the_zone(cast, book, requests, login_as, old, new):
    pk = requests["waiting"].pk
    client = login_as(cast.client1)

    response = client.get(old.format(pk=pk))

    assert response.status_code == 308
    assert response.url == new.format(pk=pk)
    assert client.get(old.format(pk=pk), follow=True).status_code == 200


def test_a_form_sent_to_an_old_address_still_reaches_its_view(cast, book, requests, login_as):
    request = requests["waiting"]
    client = login_as(cast.client1)
    client.get(reverse("signing:inbox-detail", args=[request.pk]))  # opened, as the page does

    response = client.post(f"/signing/inbox/{request.pk}/decline/", {"reason": "Not now"})

    assert response.status_code == 308 and response.url == f"/client/sign/{request.pk}/decline/"
    client.post(response.url, {"reason": "Not now"})
    assert SignatureRequest.objects.get(pk=request.pk).status == SignatureRequest.Status.DECLINED


def test_an_old_address_gives_nobody_else_anything(cast, book, requests, login_as, client):
    pk = requests["waiting"].pk
    assert login_as(cast.client2).get(f"/signing/inbox/{pk}/", follow=True).status_code == 404
    assert login_as(cast.broker1).get("/signing/inbox/", follow=True).status_code == 403
    client.logout()
    anonymous = client.get(f"/signing/inbox/{pk}/", follow=True)
    assert anonymous.redirect_chain[-1][0].startswith(reverse("account_login"))
