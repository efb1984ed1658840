"""Thin Celery tasks of the client zone: ids in, `clients.exports` does the work, safe to repeat.

A transient error (database, broker or storage away for a moment) retries with backoff; the build
has given its claim back by then. Anything else, or the last retry failing too, marks the export
failed (`on_failure`), and the client can ask again.
"""

from celery import Task

from portal.core.task_retry import retrying_task

from . import exports


class DataExportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        export_id = kwargs.get("export_id", args[0] if args else None)
        if export_id is not None:
            exports.data_export_fail(export_id, f"{type(exc).__name__}: {exc}")


@retrying_task(max_retries=4, base=DataExportTask, ignore_result=True)
def data_export_build(self, export_id: int) -> str:
    """Build the client's ZIP (a no-op if it is built, failed or being built by another worker)."""
    export = exports.data_export_build(export_id=export_id)
    return export.status if export is not None else "taken"


@retrying_task(max_retries=2, ignore_result=True)
def data_exports_sweep(self) -> dict[str, int]:
    """Every hour: delete expired exports' files, queue again builds that were lost or stopped."""
    return exports.data_exports_sweep()
