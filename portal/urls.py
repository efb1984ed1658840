"""The composition root: every app's URLs meet here."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView

from portal.api import views as api_views
from portal.shell import views as shell_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("portal.accounts.urls")),
    path("i18n/setlang/", shell_views.set_language, name="set_language"),
    path("notifications/", include("portal.notifications.urls")),
    path("", include("intermediaries.urls")),  # /broker/ and /client/portfolio/
    # signing under /signing/ (the sender's side, the back office) and /client/sign/ (the client's side).
    path("", include("signing.urls")),
    path("client/", include("clients.urls")),
    path("profile/api-keys/", include("portal.api.page_urls")),
    path("bnpl/", include("bnpl.urls")),
    path("commissions/", include("commissions.urls")),
    path("backoffice/", include("portal.inbox.urls")),
    path("approvals/", include("portal.approvals.urls")),
    path("threads/", include("portal.threads.urls")),
    path("evidence/", include("portal.evidence.urls")),
    path("reports/", include("reports.urls")),
    path("healthz", shell_views.healthz, name="healthz"),
    path("api/v1/", include("portal.api.urls")),
    path("api/v1/", include("portal.approvals.api.urls")),
    path("api/v1/", include("intermediaries.api.urls")),
    path("api/v1/", include("signing.api.urls")),
    path("api/v1/", include("bnpl.api.urls")),
    path("api/v1/", include("commissions.api.urls")),
    path("api/v1/", include("reports.api.urls")),
    path("api/schema/", api_views.SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", api_views.api_not_found),
    path("", include("portal.shell.urls")),
]

handler403 = "portal.shell.views.error_403"
handler404 = "portal.shell.views.error_404"
handler500 = "portal.shell.views.error_500"
