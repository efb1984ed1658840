"""API views that answer with a stored file (a PDF) rather than JSON.

DRF negotiates a renderer before the view runs, so a client that sends `Accept: application/pdf`
(or `application/octet-stream`, which generated clients expect for binary answers) would be told
406 by a view that only knows JSON. These views list both media types; the file goes out as the
type the client asked for (PDF by default), and an error still answers in the API's JSON format.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.core.files import stored_file_response

PDF = "application/pdf"
OCTET_STREAM = "application/octet-stream"

# For extend_schema(responses=…): a binary 200 under both media types. Generated clients
# (openapi-python-client) read `application/octet-stream` as a file and skip media types they
# do not know, so the second entry is what makes them return the bytes.
PDF_RESPONSES = {(200, PDF): OpenApiTypes.BINARY, (200, OCTET_STREAM): OpenApiTypes.BINARY}
# DRF's `?format=` override is left undocumented here: the Accept header is the way to choose.
NO_FORMAT_PARAMETER = OpenApiParameter("format", exclude=True)


class _FileRenderer(BaseRenderer):
    """Only selects the media type; the view answers with the file itself, never through here."""

    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class PdfRenderer(_FileRenderer):
    media_type = PDF
    format = "pdf"


class OctetStreamRenderer(_FileRenderer):
    media_type = OCTET_STREAM
    format = "bin"


class FileDownloadView(APIView):
    renderer_classes = [JSONRenderer, PdfRenderer, OctetStreamRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        # An error (a DRF Response) is rendered as JSON whatever file type the client accepted.
        if isinstance(response, Response) and not isinstance(getattr(request, "accepted_renderer", None), JSONRenderer):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def file_response(self, fieldfile, *, filename: str):
        """The stored PDF as a download, typed as the client asked (404 when it is missing)."""
        accepted = getattr(self.request, "accepted_media_type", "") or ""
        content_type = OCTET_STREAM if accepted.startswith(OCTET_STREAM) else PDF
        return stored_file_response(fieldfile, filename=filename, content_type=content_type)
