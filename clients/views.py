"""The client zone's own pages: home, documents, my adviser.

Each page starts from `zone_client(request.user)`: the signed-in client's own record, or 404 for
anyone who has none (a broker, the back office), so no page takes a client id from the URL. What
the pages show comes from the zone's registry (`clients/zone.py`), filled by the apps that hold it.
"""

from dataclasses import dataclass
from functools import wraps
from itertools import islice

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from portal.accounts.roles import Role

from . import zone
from .models import Client

# Documents per source on the unfiltered page; a filtered page lists one source, a page at a time.
SECTION_ROWS = 10
PAGE_ROWS = 25


def zone_page(view):
    """A client zone page: signed in, GET, and given the client's own record (`zone.zone_client`).

    A login with the end-client role whose client record is not linked yet gets a page that says
    so; anyone else without a record gets 404.
    """

    @wraps(view)
    @login_required
    @require_GET
    def wrapped(request, *args, **kwargs):
        try:
            client = zone.zone_client(request.user)
        except Http404:
            if request.user.has_role(Role.CLIENT):
                return render(request, "clients/not_linked.html")
            raise
        return view(request, client, *args, **kwargs)

    return wrapped


@dataclass(frozen=True)
class ShownPanel:
    """A home panel with its context for this client; the page renders it in its own context."""

    key: str
    width: str
    template: str
    context: dict
    scripts: tuple[str, ...]


@zone_page
def home(request, client: Client):
    panels = _home_panels(client, request)
    scripts = list(dict.fromkeys(script for panel in panels for script in panel.scripts))
    return render(
        request,
        "clients/home.html",
        {"client": client, "panels": panels, "scripts": scripts, "adviser": _adviser(client)},
    )


@dataclass(frozen=True)
class DocumentSection:
    source: zone.DocumentSource
    documents: list
    more: bool  # more documents than shown


@zone_page
def documents(request, client: Client):
    """Every document source as a section; `?kind=<source>` shows one source, page by page."""
    sources = zone.document_sources()
    kind = request.GET.get("kind", "")
    chosen = [source for source in sources if source.key == kind] if kind else sources
    context = {"client": client, "sources": sources, "kind": kind}
    if not chosen:
        context["error"] = _("There is no such kind of document. Choose one of the kinds above.")
        return render(request, "clients/documents.html", {**context, "sections": []}, status=400)
    page = _page_number(request) if kind else 1
    size = PAGE_ROWS if kind else SECTION_ROWS
    start = (page - 1) * size
    sections = []
    for source in chosen:
        rows = _window(source.documents(client), start, start + size + 1)
        sections.append(DocumentSection(source=source, documents=rows[:size], more=len(rows) > size))
    return render(request, "clients/documents.html", {**context, "sections": sections, "page": page})


@zone_page
def adviser(request, client: Client):
    return render(request, "clients/adviser.html", {"client": client, "adviser": _adviser(client)})


def _home_panels(client, request) -> list[ShownPanel]:
    """The registered panels that have something to show for this client, in their order."""
    panels = []
    for panel in zone.home_panels():
        context = panel.context(client, request)
        if context is not None:
            panels.append(
                ShownPanel(
                    key=panel.key, width=panel.width, template=panel.template, context=context, scripts=panel.scripts
                )
            )
    return panels


def _window(documents, start: int, stop: int) -> list:
    """Documents `start` to `stop` of a source, read no further; a generator is closed (its query with it)."""
    try:
        return list(islice(documents, start, stop))
    finally:
        if hasattr(documents, "close"):
            documents.close()


def _adviser(client):
    """The client's adviser (a portal user, with their firm loaded), if one is assigned and still active."""
    advisor = client.advisor
    return advisor if advisor is not None and advisor.is_active else None


def _page_number(request) -> int:
    """The page asked for; anything that is not a page number gives the first page."""
    try:
        return max(1, int(request.GET.get("page", 1)))
    except (TypeError, ValueError):
        return 1
