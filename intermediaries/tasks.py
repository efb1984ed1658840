from celery import shared_task

from . import valuation


@shared_task(bind=True, max_retries=5, acks_late=True)
def portfolios_revalue(self, portfolio_ids: list[int]) -> int:
    """Recompute these portfolios, then their clients' totals and their brokers' and firms' books.

    Idempotent: every step replaces its rows for the same inputs, so a retry gives the same result.
    """
    try:
        return valuation.revalue_and_roll_up(portfolio_ids=portfolio_ids)
    except Exception as exc:  # a database hiccup: try again later with backoff
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc
