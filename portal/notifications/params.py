"""A notification's parameters, kept so that its texts can be rendered again in the reader's language.

`notify()` gets a context of plain values and model instances (a signature request, a date, an
amount). `params_freeze` turns it into JSON: plain values as they are, dates, times, amounts and
ids tagged with their type, and of a model instance only what the event's templates read of it
(`request.title`, `request.get_kind_display`), found in the templates' source. A choice field is
kept as its stored value, so that `get_kind_display` gives the label in whatever language is
active when the text is shown. `params_thaw` gives back values the same templates can render.

Anything the templates read that is not a field (a property such as `short_reference`) is kept
as the value it had when the notification was written: the texts say what was true then.
"""

import re
import uuid
from datetime import date, datetime, time
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.utils.functional import Promise

from . import registry

_DISPLAY_RE = re.compile(r"^get_(\w+)_display$")
# The recipient is passed again when the text is rendered; the link and event type are the row's own.
RESERVED = frozenset({"user", "link", "event"})
# A model instance is kept with its text and at most this many levels of attributes below it.
MAX_DEPTH = 3


def params_freeze(context: dict, event: registry.EventType) -> dict:
    """The context as JSON-safe parameters, keeping of each object what the event's texts read."""
    paths = _paths_read(event)
    return {
        key: _freeze(value, paths.get(key, {}), depth=0)
        for key, value in context.items()
        if key not in RESERVED and isinstance(key, str)
    }


def params_thaw(params: dict) -> dict:
    return {key: _thaw(value) for key, value in (params or {}).items()}


class Snapshot:
    """What a notification kept of a model instance: the attributes its texts read, as they were.

    `get_<field>_display` looks the stored value up in the field's choices now, so the label
    follows the active language; `str()` is the instance's text when it was written.
    """

    def __init__(self, model, text: str, values: dict):
        self._model = model
        self._text = text
        self._values = values

    def __str__(self):
        return self._text

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        values = self.__dict__.get("_values", {})
        match = _DISPLAY_RE.match(name)
        if match and match.group(1) in values:
            return lambda: _choice_label(self._model, match.group(1), values[match.group(1)])
        if name in values:
            return values[name]
        raise AttributeError(name)


def _choice_label(model, field_name: str, value):
    if model is not None:
        try:
            field = model._meta.get_field(field_name)
        except FieldDoesNotExist:  # renamed since: show the stored value
            field = None
        if field is not None and field.flatchoices:
            return dict(field.flatchoices).get(value, value)
    return value


def _freeze(value, paths: dict, *, depth: int):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return _freeze_instance(value, paths, depth=depth)
    if isinstance(value, dict):
        return {"$dict": {str(k): _freeze(v, paths.get(str(k), {}), depth=depth + 1) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return [_freeze(item, paths, depth=depth + 1) for item in value]
    return str(value)


def _freeze_instance(instance: models.Model, paths: dict, *, depth: int) -> dict:
    values = {}
    if depth < MAX_DEPTH:
        for name, below in paths.items():
            match = _DISPLAY_RE.match(name)
            if match and _concrete_field(instance, match.group(1)):
                values[match.group(1)] = _freeze(getattr(instance, match.group(1)), {}, depth=depth + 1)
                continue
            try:
                attribute = getattr(instance, name)
                if callable(attribute) and not getattr(attribute, "alters_data", False):
                    attribute = attribute()
            except (AttributeError, ObjectDoesNotExist, TypeError, ValueError):
                continue  # what a template cannot read, it shows empty
            if callable(attribute):
                continue
            values[name] = _freeze(attribute, below, depth=depth + 1)
    return {"$model": instance._meta.label_lower, "str": str(instance), "values": values}


def _concrete_field(instance, name: str) -> bool:
    try:
        field = instance._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return field.concrete and not field.is_relation


def _thaw(value):
    if isinstance(value, list):
        return [_thaw(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$decimal" in value:
        return Decimal(value["$decimal"])
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if "$date" in value:
        return date.fromisoformat(value["$date"])
    if "$time" in value:
        return time.fromisoformat(value["$time"])
    if "$dict" in value:
        return {k: _thaw(v) for k, v in value["$dict"].items()}
    if "$model" in value:
        try:
            model = apps.get_model(value["$model"])
        except (LookupError, ValueError):
            model = None
        return Snapshot(model, value.get("str", ""), {k: _thaw(v) for k, v in value.get("values", {}).items()})
    return value


_VARIABLE_RE = re.compile(r"(?<![\w.])([A-Za-z_]\w*)((?:\.\w+)+)")


def _paths_read(event: registry.EventType) -> dict:
    """`{"request": {"title": {}, "get_kind_display": {}}}`: the dotted names the event's texts use."""
    tree: dict = {}
    for source in event.sources():
        for name, rest in _VARIABLE_RE.findall(source):
            node = tree.setdefault(name, {})
            for part in rest.strip(".").split("."):
                node = node.setdefault(part, {})
    return tree
