"""PDF from HTML with WeasyPrint, fetching nothing: no network, no files, only `data:` URLs.

Templates carry their styles inline; fonts come from the system (fontconfig: DejaVu covers the
euro sign and Cyrillic). The fetcher refuses every other scheme, so an `<img src="http://…">` or
an `@import` that slipped into a template is dropped instead of fetched.
"""


def _fetcher():
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


def pdf_from_html(html: str, *, identifier: bytes | None = None) -> bytes:
    """Render `html` to PDF bytes. `identifier` becomes the PDF's /ID, so the same input gives the same file id."""
    from weasyprint import HTML

    options = {"pdf_identifier": identifier} if identifier else {}
    return HTML(string=html, base_url=None, url_fetcher=_fetcher()).write_pdf(**options)
