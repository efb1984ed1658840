from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.core.errors import error_json_response

from .scopes import ANY_KEY_READ
from .serializers import MeSerializer


class MeView(APIView):
    """The logged-in user: who they are, their roles and organisation."""

    api_key_scope = "account"

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class SchemaView(SpectacularAPIView):
    """The OpenAPI document; a client that sends its API key with every request may read it too."""

    api_key_scope = ANY_KEY_READ


@csrf_exempt  # it changes nothing; a POST to a wrong address is a 404, not a CSRF page
def api_not_found(request, *args, **kwargs):
    """Any address under /api/ that no route matches: a 404 in the API's JSON error format, not a page."""
    return error_json_response(code="not_found", message=_("Not found."), status=404)
