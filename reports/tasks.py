"""Thin Celery tasks of the reports app: ids in, rendering or services do the work, safe to repeat.

A transient error (database or broker away for a moment) retries with backoff; rendering has
given the claim back by then, so the retry takes the report at once. Anything else, or the last
retry failing too, marks the report failed with the reason (`on_failure`). A worker killed in the
middle leaves the report running; `reports_sweep` queues it again once its heartbeat is old.
"""

from celery import Task

from portal.core.task_retry import retrying_task

from . import rendering, services


class ReportRenderTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        report_id = kwargs.get("report_id", args[0] if args else None)
        if report_id is not None:
            rendering.report_fail(report_id, f"{type(exc).__name__}: {exc}")


# One render per attempt: every claim counts towards REPORTS_RENDER_MAX_ATTEMPTS (5).
@retrying_task(max_retries=4, base=ReportRenderTask)
def report_render(self, report_id: int) -> str:
    """Render a queued report (a no-op if it is done or another worker has it)."""
    report = rendering.report_render(report_id)
    return report.status if report is not None else "taken"


@retrying_task(max_retries=2, ignore_result=True)
def reports_sweep(self) -> dict[str, int]:
    """Every minute: queue again the renders whose worker died, give up those out of attempts."""
    return services.reports_recover_stuck()


@retrying_task(max_retries=2, ignore_result=True)
def statements_issue_due(self) -> dict[str, int]:
    """Hourly: issue the last quarter's portfolio statements (and in January last year's costs and
    charges statements) to the clients still without one; at most a batch a run. Safe to repeat."""
    return services.statements_issue_due()
