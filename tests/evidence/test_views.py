"""Who may request, watch and download an evidence pack, through the pages: back office and compliance
for a signed request, nobody else (404, nothing written); bad ids are 404; the request and the
download are in the audit trail; the panel shows on the staff pages only."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from portal.audit.models import AuditEvent
from portal.evidence.models import EvidencePack
from signing.models import SignatureRequest

from .conftest import transfer, zip_of

pytestmark = pytest.mark.django_db

# The sender (broker1), their firm's manager and colleague, another firm's broker, the signer and
# other clients, a partner, a merchant and an outsider.
NOT_ALLOWED = (
    "manager",
    "broker1",
    "broker2",
    "broker3",
    "client1",
    "client2",
    "client3",
    "partner",
    "merchant",
    "outsider",
)


def request_url(obj) -> str:
    return reverse("evidence:pack-request", args=[ContentType.objects.get_for_model(obj).pk, obj.pk])


@pytest.fixture
def post(login_as, django_capture_on_commit_callbacks):
    """`post(user, url, **extra)`: a POST as `user`, with what the commit queues run (the build, eagerly)."""

    def _post(user, url, **extra):
        client = login_as(user)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, **extra)

    return _post


@pytest.mark.parametrize("who", NOT_ALLOWED)
def test_nobody_but_back_office_and_compliance_may_request_the_pack_of_a_signed_request(cast, signed, post, who):
    response = post(getattr(cast, who), request_url(signed))

    assert response.status_code == 404
    assert not EvidencePack.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="evidence.").exists()


@pytest.mark.parametrize("who", ["backoffice", "compliance"])
def test_back_office_and_compliance_request_the_pack_and_are_sent_back_to_the_page(cast, signed, post, compliance, who):
    actor = compliance if who == "compliance" else cast.backoffice
    page = reverse("signing:backoffice-detail", args=[signed.pk])

    response = post(actor, request_url(signed), data={"next": page})

    assert response.status_code == 302 and response.url == page
    pack = EvidencePack.objects.get()
    assert pack.requested_by == actor and pack.state == EvidencePack.State.READY


def test_a_next_address_elsewhere_is_not_followed(cast, signed, post):
    response = post(cast.backoffice, request_url(signed), data={"next": "https://evil.example.com/"})

    assert response.status_code == 302
    assert response.url == reverse("evidence:pack-detail", args=[EvidencePack.objects.get().pk])


def test_a_request_not_yet_signed_has_no_evidence_pack(cast, book, post):
    sent = transfer(cast.broker1, book.anna)

    assert post(cast.backoffice, request_url(sent)).status_code == 404
    assert not EvidencePack.objects.exists()


def test_bad_ids_are_404_and_change_nothing(cast, signed, post, login_as):
    request_type = ContentType.objects.get_for_model(SignatureRequest).pk
    user_type = ContentType.objects.get_for_model(type(cast.backoffice)).pk
    for url in (
        f"/evidence/{request_type}/999999/",  # no such request
        f"/evidence/{request_type}/{2**63}/",  # beyond any id
        f"/evidence/987654/{signed.pk}/",  # no such type
        f"/evidence/{user_type}/{cast.client1.pk}/",  # a type with no evidence kind
        f"/evidence/{request_type}/abc/",
        f"/evidence/{request_type}/-1/",
    ):
        assert post(cast.backoffice, url).status_code == 404, url
    client = login_as(cast.backoffice)
    for url in ("/evidence/packs/999999/", "/evidence/packs/999999/download/", "/evidence/packs/x/"):
        assert client.get(url).status_code == 404, url
    assert not EvidencePack.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="evidence.").exists()


def test_the_request_url_takes_only_post(cast, signed, login_as):
    assert login_as(cast.backoffice).get(request_url(signed)).status_code == 405


def test_the_request_and_the_download_are_in_the_audit_trail_on_the_case(cast, signed, post, login_as):
    post(cast.backoffice, request_url(signed))
    pack = EvidencePack.objects.get()

    response = login_as(cast.backoffice).get(reverse("evidence:pack-download", args=[pack.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    assert f'filename="{pack.download_name}"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == pack.file.read()
    events = AuditEvent.objects.filter(action__in=["evidence.pack_requested", "evidence.pack_downloaded"])
    requested, downloaded = events.order_by("created_at", "id")
    for event in (requested, downloaded):
        assert event.actor == cast.backoffice
        assert (event.object_type, event.object_id) == ("signing.signaturerequest", str(signed.pk))
        assert event.ip == "127.0.0.1" and event.request_id
    assert requested.changes == {"pack": pack.pk}
    assert downloaded.changes == {"pack": pack.pk, "sha256": pack.sha256}


@pytest.mark.parametrize("who", NOT_ALLOWED)
def test_nobody_else_watches_or_downloads_a_pack(cast, signed, post, login_as, who):
    post(cast.backoffice, request_url(signed))
    pack = EvidencePack.objects.get()
    client = login_as(getattr(cast, who))

    assert client.get(reverse("evidence:pack-detail", args=[pack.pk])).status_code == 404
    assert client.get(reverse("evidence:pack-download", args=[pack.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="evidence.pack_downloaded").exists()


def test_a_colleague_who_may_build_downloads_the_pack_another_requested(cast, signed, post, login_as, compliance):
    post(cast.backoffice, request_url(signed))
    pack = EvidencePack.objects.get()

    response = login_as(compliance).get(reverse("evidence:pack-download", args=[pack.pk]))

    assert response.status_code == 200
    assert AuditEvent.objects.get(action="evidence.pack_downloaded").actor == compliance


def test_a_pack_not_ready_is_not_downloaded(cast, signed, login_as):
    from portal.evidence import services

    pack = services.evidence_pack_request(actor=cast.backoffice, obj=signed)  # queued: its commit never ran

    client = login_as(cast.backoffice)
    assert client.get(reverse("evidence:pack-download", args=[pack.pk])).status_code == 404
    progress = client.get(reverse("evidence:pack-detail", args=[pack.pk]), HTTP_HX_REQUEST="true")
    assert progress.status_code == 200
    assert b'data-testid="evidence-progress"' in progress.content and b'hx-trigger="every 1s"' in progress.content
    assert b"<html" not in progress.content  # the fragment alone, for htmx


def test_the_htmx_request_answers_with_the_panel_that_polls_until_the_download_is_there(cast, signed, post, login_as):
    # The test's transaction holds the commit back until the view has answered: the pack is queued.
    response = post(cast.backoffice, request_url(signed), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    pack = EvidencePack.objects.get()
    html = response.content.decode()
    assert "<html" not in html and 'data-testid="evidence-progress"' in html
    assert f'hx-get="{reverse("evidence:pack-detail", args=[pack.pk])}"' in html and "every 1s" in html

    polled = login_as(cast.backoffice).get(reverse("evidence:pack-detail", args=[pack.pk]), HTTP_HX_REQUEST="true")

    pack.refresh_from_db()
    html = polled.content.decode()
    assert reverse("evidence:pack-download", args=[pack.pk]) in html and pack.sha256 in html
    assert "every 1s" not in html  # ready: the polling stops


def test_the_panel_shows_on_the_back_office_page_and_not_on_the_brokers(cast, signed, login_as):
    page = login_as(cast.backoffice).get(reverse("signing:backoffice-detail", args=[signed.pk]))
    assert b'data-testid="evidence-panel"' in page.content and b'data-testid="evidence-request"' in page.content

    page = login_as(cast.broker1).get(reverse("signing:request-detail", args=[signed.pk]))
    assert page.status_code == 200 and b"evidence-panel" not in page.content


def test_the_panel_shows_on_a_statement_for_staff_and_not_for_its_broker(cast, statement, login_as, post):
    url = reverse("commissions:statement-detail", args=[statement.pk])
    page = login_as(cast.backoffice).get(url)
    assert b'data-testid="evidence-panel"' in page.content

    page = login_as(cast.broker1).get(url)
    assert page.status_code == 200 and b"evidence-panel" not in page.content
    assert post(cast.broker1, request_url(statement)).status_code == 404

    assert post(cast.backoffice, request_url(statement)).status_code == 302
    assert "documents/commission-statement-2026-09.pdf" in zip_of(EvidencePack.objects.get()).namelist()


def test_the_back_office_page_runs_a_bounded_number_of_queries_whatever_the_number_of_packs(
    cast, signed, login_as, django_assert_max_num_queries
):
    client = login_as(cast.backoffice)
    url = reverse("signing:backoffice-detail", args=[signed.pk])
    client.get(url)  # the menu's cached counts (work inbox, notifications) are filled by the first page
    counts = []
    for packs in (1, 20):
        EvidencePack.objects.all().delete()
        for _ in range(packs):
            EvidencePack.objects.create(
                content_type=ContentType.objects.get_for_model(signed),
                object_id=signed.pk,
                requested_by=cast.backoffice,
                state=EvidencePack.State.FAILED,
            )
        with django_assert_max_num_queries(60) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
