"""Bank file adapters for collecting instalments, pure functions without models.

- `sepa`: the SEPA Core direct debit file (pain.008) for one collection day.
- `camt`: reading bank statements (camt.053) and debit/credit notifications (camt.054).
- `matching`: which statement lines pay, partly pay or return which expected collection.

docs/bnpl-collections.md describes the formats and the rules.
"""
