from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class PortalPagination(PageNumberPagination):
    """Page numbers. A `page` that is not a whole number from 1, or a `page_size` that is not one from 1
    to 500, is refused (400), not ignored; a page past the last one is a 404. Sent empty, as HTML forms
    do, either parameter counts as not given."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    last_page_strings = ()

    def _single(self, request, name) -> str | None:
        given = [value for value in request.query_params.getlist(name) if value != ""]
        if not given:
            return None
        if len(given) != 1 or not given[0].isascii() or not given[0].isdigit():
            return ""
        return given[0]

    def get_page_number(self, request, paginator):
        raw = self._single(request, self.page_query_param)
        if raw is None:
            return 1
        if not raw or int(raw) < 1:
            raise ValidationError({self.page_query_param: [_("A whole number from 1.")]})
        return raw

    def get_page_size(self, request):
        raw = self._single(request, self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [_("A whole number from 1 to %(max)d.") % {"max": self.max_page_size}]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = "A page number, from 1 (a page past the last one is a 404)."
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
                parameter["description"] = f"Results per page (default {self.page_size})."
        return parameters
