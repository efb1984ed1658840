"""The batched writer: per batch one query finds the stored rows, one inserts the new ones, one updates the corrected ones.

On PostgreSQL the lookup and the insert pass whole columns as arrays -- a handful of parameters,
not 5,000 rows' worth -- and build no model instances; other databases go through the ORM.
"""

from collections import defaultdict, namedtuple
from collections.abc import Callable, Hashable
from functools import reduce
from operator import attrgetter, or_

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone


def _sql_fast_path() -> bool:
    """PostgreSQL gets array-based SQL for lookups and inserts; other databases go through the ORM."""
    return connection.vendor == "postgresql"


def _tuple_getter(names: tuple[str, ...]) -> Callable[[tuple], tuple]:
    """The named fields of a row as a tuple (attrgetter gives a bare value for a single name)."""
    get = attrgetter(*names)
    if len(names) > 1:
        return get
    return lambda row: (get(row),)


class BatchWriter:
    """Reads and writes one model's rows by natural key, a batch at a time.

    Stored rows come back as named tuples `(pk, *key_fields, *fields)`, not model instances: on a
    re-import nearly every row is unchanged, and building two million instances only to compare
    them would double the time.
    """

    def __init__(self, model: type[models.Model], key_fields: tuple[str, ...], fields: tuple[str, ...]):
        self.model = model
        self.key_fields = key_fields
        self.fields = fields
        self.stored_row = namedtuple(f"Stored{model.__name__}", ("pk", *key_fields, *fields))
        self.key_of = _tuple_getter(key_fields)
        self.values_of = _tuple_getter(fields)  # the compared fields, in the order of `fields`

    def find(self, keys: list[tuple]) -> dict[Hashable, tuple]:
        """The stored rows with these natural keys, in one query, by key."""
        rows = self._find_sql(keys) if _sql_fast_path() else self._find_orm(keys)
        key_of = self.key_of
        return {key_of(row): row for row in map(self.stored_row._make, rows)}

    def _find_orm(self, keys: list[tuple]) -> list[tuple]:
        first, *rest = self.key_fields
        if not rest:
            condition = Q(**{f"{first}__in": [key for (key,) in keys]})
        else:
            # Composite keys: one `first = x AND second IN (…)` term per value of the first field,
            # which for a feed sorted by instrument or currency is a handful of terms per batch.
            (second,) = rest
            grouped: dict = defaultdict(set)
            for a, b in keys:
                grouped[a].add(b)
            condition = reduce(or_, (Q(**{first: a, f"{second}__in": list(bs)}) for a, bs in grouped.items()))
        return list(self.model.objects.filter(condition).values_list(*self.stored_row._fields))

    def _find_sql(self, keys: list[tuple]) -> list[tuple]:
        """PostgreSQL: join the table to the keys passed as arrays."""
        meta, quote = self.model._meta, connection.ops.quote_name
        key_fields = [meta.get_field(name) for name in self.key_fields]
        selected = [meta.pk, *key_fields, *(meta.get_field(name) for name in self.fields)]
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in key_fields)
        names = ", ".join(quote(field.column) for field in key_fields)
        join = " AND ".join(f"t.{quote(field.column)} = k.{quote(field.column)}" for field in key_fields)
        # Names come from the model's metadata, every value is a parameter.
        sql = (
            f"SELECT {', '.join('t.' + quote(field.column) for field in selected)} "  # noqa: S608
            f"FROM {quote(meta.db_table)} t JOIN unnest({arrays}) AS k({names}) ON {join}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(column) for column in zip(*keys, strict=True)])
            return cursor.fetchall()

    def insert(self, records: list[dict]) -> list:
        """Create the batch's new rows; returns their primary keys (where the database tells them)."""
        if _sql_fast_path():
            return self._insert_sql(records)
        names = self.key_fields + self.fields
        created = self.model.objects.bulk_create([self.model(**{n: r[n] for n in names}) for r in records])
        return [obj.pk for obj in created]

    def _insert_sql(self, records: list[dict]) -> list:
        """PostgreSQL: one INSERT … SELECT FROM unnest(column arrays), without an instance per row.

        Columns the feed does not deliver get the model's default, as bulk_create would give them.
        """
        meta, quote = self.model._meta, connection.ops.quote_name
        now = timezone.now()
        columns, arrays = [], []
        for model_field in meta.concrete_fields:
            if model_field.primary_key or model_field.generated or model_field.has_db_default():
                continue
            name = model_field.attname
            if name in records[0]:
                values = [record[name] for record in records]
            elif getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
                values = [now] * len(records)
            else:
                values = [model_field.get_default() for _ in records]
            columns.append(model_field)
            arrays.append(values)
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) "  # noqa: S608
            f"SELECT * FROM unnest({', '.join(f'%s::{f.db_type(connection)}[]' for f in columns)}) "
            f"RETURNING {quote(meta.pk.column)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, arrays)
            return [pk for (pk,) in cursor.fetchall()]

    def update(self, changed: list[tuple[int, dict]]) -> None:
        """Write `fields` of the corrected rows, given as (pk, record)."""
        objs = [self.model(pk=pk, **{name: record[name] for name in self.fields}) for pk, record in changed]
        self.model.objects.bulk_update(objs, list(self.fields), batch_size=1000)
