"""Serving a stored file (a PDF, an attachment) to someone a view has already authorised."""

from django.http import FileResponse, Http404


def stored_file_response(
    fieldfile, *, filename: str, content_type: str = "application/pdf", inline: bool = False
) -> FileResponse:
    """The file as a download (or inline), never cached by a shared cache; 404 when it is gone from storage."""
    if not fieldfile:
        raise Http404
    try:
        handle = fieldfile.open("rb")
    except OSError:  # FileNotFoundError and storage errors alike: there is nothing to serve
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type, as_attachment=not inline, filename=filename)
    response["Cache-Control"] = "private, no-store"
    # The middleware sets it on every response; set here too, so a file is never sniffed whatever the settings.
    response["X-Content-Type-Options"] = "nosniff"
    return response
