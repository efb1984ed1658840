"""Loaded only by a test's Celery worker (`celery worker --include tests.reports.slow_render`).

Every report render of that worker pauses for minutes right after its claim, so the test can
kill the worker in the middle of a render. Production code has no such hook; the worker that
renders the report afterwards is started without this module.
"""

import time

from reports import documents

PAUSE_SECONDS = 300
_document_build = documents.document_build


def _paused_document_build(report):
    print(f"slow_render: pausing the render of report {report.pk}", flush=True)
    time.sleep(PAUSE_SECONDS)
    return _document_build(report)


documents.document_build = _paused_document_build
