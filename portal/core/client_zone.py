"""The client zone's registry: what the apps contribute to the end client's pages.

The zone's pages live in `clients` (`clients/zone.py`, `clients/views.py`), but what they show comes
from apps that `clients` may not import: apps above it (portfolios in `intermediaries`, statements in
`reports`) and its sibling `signing` (documents to sign), which may not import `clients` either. So the
registry is kept here, in the kernel's leaf, and `clients.zone` re-exports it; an app registers in its
AppConfig.ready():

- home panels: a template and a function that gives its context for the signed-in client
  (None hides the panel, e.g. a client without portfolios);
- document sources: the client's downloadable documents of one kind (signed PDFs, statements);
- data-export parts: what the app holds about the client, for "download my data" (GDPR Art. 15/20).

The functions receive the client's record (`clients.models.Client`, with `user` and `advisor` loaded);
an app that may not import `clients` reads only its fields (`client.user`, `client.user_id`).
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HomePanel:
    key: str
    template: str
    # context(client, request) -> dict for the template, or None to leave the panel out.
    context: Callable
    order: int = 50
    # "wide" takes the whole row, "narrow" half of it on large screens.
    width: str = "wide"
    # Static scripts the panel needs (e.g. "vendor/chartjs/chart.umd.min.js"), loaded once by the page.
    scripts: tuple[str, ...] = ()


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
    # documents(client) -> iterable of ZoneDocument, newest first (read lazily: the page takes a window).
    documents: Callable[..., Iterable[ZoneDocument]]
    order: int = 50
    # What the documents page says when the client has none of these yet ("" for a general sentence).
    empty_text: str = ""


@dataclass(frozen=True)
class ExportFile:
    name: str  # path inside the ZIP, e.g. "signed/REQ-12.pdf"
    content: Callable[[], bytes]  # read only while the ZIP is written


@dataclass(frozen=True)
class DataExportPart:
    key: str  # the part's name in the export's JSON, e.g. "portfolios"
    # build(client) -> (JSON-serialisable data, list of ExportFile)
    build: Callable[..., tuple[object, list[ExportFile]]]
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
