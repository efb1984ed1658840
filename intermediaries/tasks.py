from datetime import date

from portal.core.task_retry import retrying_task

from . import rollups, selectors, valuation


def _revalue_item(item) -> tuple[int, date | None]:
    """[portfolio id, since as an ISO date or None] -> (id, date); a plain id means from the first booking."""
    if isinstance(item, int):
        return item, None
    portfolio_id, since = item
    return int(portfolio_id), date.fromisoformat(since) if since else None


@retrying_task(max_retries=5)
def portfolios_revalue(self, portfolios: list) -> int:
    """Recompute these portfolios, then their clients' totals and their brokers' and firms' books.

    `portfolios` holds [portfolio id, since] pairs (JSON: since is an ISO date, or None for a
    replay from the first booking); each portfolio is revalued from `since` on. A plain id is a
    full replay (the form tasks queued before the pairs were).

    Idempotent: every step replaces its rows for the same inputs, so a retry gives the same result
    (an incremental run resumes from the same stored day before `since`, which it never rewrites).
    """
    work = [_revalue_item(item) for item in portfolios]
    return valuation.revalue_and_roll_up(revalue_from=work)


@retrying_task(max_retries=5)
def books_revalue(self, advisor_ids: list[int]) -> int:
    """Recompute the books of these brokers and of their firms (idempotent)."""
    return rollups.books_revalue(advisor_ids=advisor_ids)


@retrying_task(max_retries=2, ignore_result=True)
def dashboards_warm(self, advisor_ids: list[int], firm_ids: list[int]) -> int:
    """Cache the dashboards a revaluation made stale (idempotent: a cached one is only read)."""
    return selectors.dashboards_warm(advisor_ids=advisor_ids, firm_ids=firm_ids)
