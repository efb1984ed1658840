import subprocess
from datetime import date

import pytest

from reports import rendering, services
from reports.models import Report

SEP = date(2026, 9, 1)
OCT_END = date(2026, 10, 31)


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def rendered(media):
    """Request a report and render it at once, as the worker would."""

    def _rendered(actor, kind=Report.Kind.STATEMENT, start=SEP, end=OCT_END, **subject) -> Report:
        report = services.report_request(actor=actor, kind=kind, period_start=start, period_end=end, **subject)
        return rendering.report_render(report.pk) or Report.objects.get(pk=report.pk)

    return _rendered


from tests.commissions.conftest import plans  # noqa: E402, F401
from tests.fakes.fixtures import *  # noqa: E402, F403 (the private Redis and the loopback fakes, for worker tests)
from tests.intermediaries.conftest import market, workspace  # noqa: E402, F401
