"""Serializer fields shared by the API's apps.

Timestamps: the API answers in UTC (`2026-12-04T09:30:00Z`), whatever the portal's time zone,
so a client never has to know where the server stands; pages keep showing local time. A
ModelSerializer of the API derives from `ModelSerializer` below, whose model DateTimeFields
become `UtcDateTimeField`; a field declared by hand uses `UtcDateTimeField` directly.
"""

import copy
import datetime

from django.db import models
from rest_framework import serializers


class UtcDateTimeField(serializers.DateTimeField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default_timezone", datetime.UTC)
        super().__init__(*args, **kwargs)


class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UtcDateTimeField,
    }

    def get_fields(self):
        # DRF introspects the model again for every serializer it makes (each request, each nested
        # list), though the result depends on the class alone: Meta, declared fields, the field
        # mapping. Built once per class; each serializer gets its own deep copy, as DRF gives it
        # its declared fields, because binding a field to its parent changes it.
        template = type(self).__dict__.get("_portal_fields_template")
        if template is None:
            template = super().get_fields()
            type(self)._portal_fields_template = template
        return copy.deepcopy(template)


class BlankAsNullEmailField(serializers.EmailField):
    """An optional e-mail address: a blank one is answered as null, never as an empty string.

    A client that parses `format: email` strictly can then read every value it is given.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value or None


class StrictCharField(serializers.CharField):
    """A string in a JSON body is a JSON string: a number or a boolean is refused, not turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A whole number in a JSON body is a JSON integer: "5", 5.0 or true is refused, not converted."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)
