from celery import shared_task

from . import rendering


@shared_task(bind=True, max_retries=4, acks_late=True)
def report_render(self, report_id: int) -> str:
    """Render a queued report (a no-op if it is done or another worker has it); retries with backoff."""
    try:
        report = rendering.report_render(report_id)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            rendering.report_fail(report_id, f"{type(exc).__name__}: {exc}")
            raise
        # Give the claim back so that the retry can take it.
        from .models import Report

        Report.objects.filter(pk=report_id, status=Report.Status.RUNNING).update(status=Report.Status.QUEUED)
        raise self.retry(exc=exc, countdown=min(600, 15 * 2**self.request.retries)) from exc
    return report.status if report is not None else "taken"
