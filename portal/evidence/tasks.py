"""The one task of evidence packs: an id in, `building` does the work, safe to repeat.

A transient error (database or broker away for a moment) retries with backoff; the build has given
its claim back by then, so the retry takes the pack at once. Anything else, or the last retry
failing too, marks the pack failed with the reason (`on_failure`).
"""

from celery import Task

from portal.core.task_retry import retrying_task

from . import building


class EvidencePackBuildTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        pack_id = kwargs.get("pack_id", args[0] if args else None)
        if pack_id is not None:
            building.evidence_pack_fail(pack_id, f"{type(exc).__name__}: {exc}")


@retrying_task(max_retries=4, base=EvidencePackBuildTask)
def evidence_pack_build(self, pack_id: int) -> str:
    """Build a queued pack (a no-op if it is done or another worker has it)."""
    pack = building.evidence_pack_build(pack_id)
    return pack.state if pack is not None else "taken"
