"""The kernel's workflow pages speak the reader's language: the approvals list and page, the work
inbox, and on a signed request the thread (with its internal-note badge) and the evidence panel."""

import pytest
from django.urls import reverse

from commissions.services import STATEMENT_KIND
from portal.approvals.models import Approval
from portal.threads.services import message_post
from tests.signing.conftest import book  # noqa: F401 (the fixture: brokers' clients with phones)
from tests.signing.test_inbox import signed

from .test_backoffice_home import prepared_statement

pytestmark = pytest.mark.django_db

WORDS = {
    "en": ["Work inbox", "Approvals", "Approved by", "Rejection reason", "Claim", "Internal note", "Evidence pack"],
    "de": [
        "Arbeitskorb",
        "Freigaben",
        "Freigegeben von",
        "Ablehnungsgrund",
        "Übernehmen",
        "Interne Notiz",
        "Nachweispaket",
    ],
    "ru": [
        "Входящие задачи",
        "Утверждения",
        "Утвердил",
        "Причина отклонения",
        "Взять в работу",
        "Внутренняя заметка",
        "Пакет доказательств",
    ],
}


@pytest.mark.parametrize("language", ["en", "de", "ru"])
def test_the_workflow_pages_read_in_the_readers_language(cast, book, login_as, language, settings, tmp_path):  # noqa: F811
    work_inbox, approvals, approved_by, rejection_reason, claim, internal_note, evidence_pack = WORDS[language]
    cast.backoffice.language = language
    cast.backoffice.save()
    statement = prepared_statement(cast, cast.broker1)
    approval = Approval.objects.get(kind=STATEMENT_KIND, object_id=statement.pk)
    settings.MEDIA_ROOT = tmp_path
    request = signed(cast, book.anna)
    message_post(actor=cast.backoffice, obj=request, body="Checked the IBAN.", internal=True)
    client = login_as(cast.backoffice)

    approval_list = client.get(reverse("approvals:approval-list")).content.decode()
    assert approvals in approval_list and approved_by in approval_list and rejection_reason in approval_list
    inbox = client.get(reverse("inbox:list")).content.decode()
    assert work_inbox in inbox and claim in inbox
    case = client.get(reverse("signing:backoffice-detail", args=[request.pk])).content.decode()
    assert internal_note in case and evidence_pack in case
    assert client.get(reverse("approvals:approval-detail", args=[approval.pk])).status_code == 200
