"""The client zone: the end client's pages, put together from what the apps above contribute.

`clients` sits on the lowest domain layer, yet a client's portfolios (`intermediaries`), documents
to sign (`signing`) and statements (`reports`) live in other apps, which `clients` must not
import. So those apps register here, in their AppConfig.ready():

- home panels: a template and a function that gives its context for the signed-in client
  (None hides the panel, e.g. a client without portfolios);
- document sources: the client's downloadable documents of one kind (signed PDFs, statements);
- data-export parts: what the app holds about the client, for "download my data" (GDPR Art. 15/20).

The registry itself is kept in the kernel (`portal.core.client_zone`, re-exported here), because
`signing`, a sibling of `clients`, may import neither this module nor `clients` at all; the apps
above may import it from either place.

The zone's own pages (home, documents, adviser, profile, data export) live in `clients.views` and
call only this registry; pages that belong to one app (positions, transactions, signing) live in
that app and appear in the zone's navigation through `portal.core.navigation` (role CLIENT).
"""

from django.http import Http404

from portal.core.client_zone import (  # noqa: F401  (the registry's interface, re-exported)
    DataExportPart,
    DocumentSource,
    ExportFile,
    HomePanel,
    ZoneDocument,
    _registry,
    document_sources,
    export_parts,
    home_panels,
    register_document_source,
    register_export_part,
    register_home_panel,
)

from .models import Client


def zone_client(user) -> Client:
    """The client record of the signed-in end client; 404 for anyone without one.

    Every zone page starts here, so a client only ever reaches their own record: the pages take
    no client id from the URL. The record comes through the client policy (an end client views
    their own record only) with the login and the adviser's firm loaded, which the pages and the
    contributions read.
    """
    if not user.is_authenticated:
        raise Http404
    client = (
        Client.objects.restrict(user, "view")
        .filter(user_id=user.pk)
        .select_related("user", "advisor__organisation")
        .first()
    )
    if client is None:
        raise Http404
    return client
