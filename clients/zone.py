"""The client zone: the end client's pages, put together from what the apps above contribute.

`clients` sits on the lowest domain layer, yet a client's portfolios (`intermediaries`), documents
to sign (`signing`) and statements (`reports`) live in apps above it, which `clients` must not
import. So those apps register here, in their AppConfig.ready():

- home panels: a template and a function that gives its context for the signed-in client
  (None hides the panel, e.g. a client without portfolios);
- document sources: the client's downloadable documents of one kind (signed PDFs, statements);
- data-export parts: what the app holds about the client, for "download my data" (GDPR Art. 15/20).

The zone's own pages (home, documents, adviser, profile, data export) live in `clients.views` and
call only this registry; pages that belong to one app (positions, transactions, signing) live in
that app and appear in the zone's navigation through `portal.core.navigation` (role CLIENT).
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.http import Http404

from .models import Client


@dataclass(frozen=True)
class HomePanel:
    key: str
    template: str
    # context(client, request) -> dict for the template, or None to leave the panel out.
    context: Callable
    order: int = 50
    # "wide" takes the whole row, "narrow" half of it on large screens.
    width: str = "wide"


@dataclass(frozen=True)
class ZoneDocument:
    """One downloadable document as the documents page lists it."""

    title: str
    kind: str  # translated label of the kind, e.g. "Signed request", "Portfolio statement"
    date: datetime.date
    url: str  # the download, answered by the owning app under its own access policy
    is_new: bool = False  # not downloaded yet by the client


@dataclass(frozen=True)
class DocumentSource:
    key: str
    label: str
    # documents(client) -> iterable of ZoneDocument, newest first.
    documents: Callable[[Client], Iterable[ZoneDocument]]
    order: int = 50


@dataclass(frozen=True)
class ExportFile:
    name: str  # path inside the ZIP, e.g. "signed/REQ-12.pdf"
    content: Callable[[], bytes]  # read only while the ZIP is written


@dataclass(frozen=True)
class DataExportPart:
    key: str  # the part's name in the export's JSON, e.g. "portfolios"
    # build(client) -> (JSON-serialisable data, list of ExportFile)
    build: Callable[[Client], tuple[object, list[ExportFile]]]
    order: int = 50


@dataclass
class _Registry:
    panels: dict[str, HomePanel] = field(default_factory=dict)
    sources: dict[str, DocumentSource] = field(default_factory=dict)
    export_parts: dict[str, DataExportPart] = field(default_factory=dict)


_registry = _Registry()


def register_home_panel(panel: HomePanel) -> None:
    _registry.panels[panel.key] = panel


def register_document_source(source: DocumentSource) -> None:
    _registry.sources[source.key] = source


def register_export_part(part: DataExportPart) -> None:
    _registry.export_parts[part.key] = part


def home_panels() -> list[HomePanel]:
    return sorted(_registry.panels.values(), key=lambda p: (p.order, p.key))


def document_sources() -> list[DocumentSource]:
    return sorted(_registry.sources.values(), key=lambda s: (s.order, s.key))


def export_parts() -> list[DataExportPart]:
    return sorted(_registry.export_parts.values(), key=lambda p: (p.order, p.key))


def zone_client(user) -> Client:
    """The client record of the signed-in end client; 404 for anyone without one.

    Every zone page starts here, so a client only ever reaches their own record: the pages take
    no client id from the URL.
    """
    if not user.is_authenticated:
        raise Http404
    client = Client.objects.filter(user_id=user.pk).select_related("advisor").first()
    if client is None:
        raise Http404
    return client
