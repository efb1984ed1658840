"""signing's pages, one namespace in two places (mounted at the root in portal/urls.py):

- /signing/ — the sender's side (brokers, firm managers), files, the back office;
- /client/sign/ — the client's side, inside the client zone (its navigation, its address).

The client's pages were under /signing/inbox/ before the client zone had them; those addresses
(in e-mails and notifications already sent, in bookmarks) redirect to the new ones, keeping the
method for a form sent from a page loaded before the move.
"""

from django.urls import include, path

from . import views

app_name = "signing"

sender_patterns = [
    # The sender's side: brokers and firm managers (back office may read).
    path("requests/", views.request_list, name="request-list"),
    path("requests/new/", views.request_create, name="request-create"),
    path("requests/accounts/", views.request_accounts, name="request-accounts"),
    path("requests/<int:request_id>/", views.request_detail, name="request-detail"),
    path("requests/<int:request_id>/edit/", views.request_edit, name="request-edit"),
    path("requests/<int:request_id>/preview/", views.request_preview, name="request-preview"),
    path("requests/<int:request_id>/send/", views.request_send, name="request-send"),
    path("requests/<int:request_id>/cancel/", views.request_cancel, name="request-cancel"),
    path("requests/<int:request_id>/attachments/", views.attachment_add, name="attachment-add"),
    path(
        "requests/<int:request_id>/attachments/<int:attachment_id>/delete/",
        views.attachment_remove,
        name="attachment-remove",
    ),
    # Files, for whoever may read the request from either side.
    path("requests/<int:request_id>/attachments/<int:attachment_id>/", views.attachment_file, name="attachment"),
    path("requests/<int:request_id>/signed.pdf", views.signed_pdf, name="signed-pdf"),
    # The back office.
    path("backoffice/", views.backoffice_inbox, name="backoffice-inbox"),
    path("backoffice/<int:request_id>/", views.backoffice_detail, name="backoffice-detail"),
    path("backoffice/<int:request_id>/handle/", views.backoffice_handle, name="backoffice-handle"),
    path("verify/", views.verify, name="verify"),
]

# The client zone's "Documents to sign".
client_patterns = [
    path("", views.inbox, name="inbox"),
    path("<int:request_id>/", views.inbox_detail, name="inbox-detail"),
    path("<int:request_id>/code/", views.code_request, name="code-request"),
    path("<int:request_id>/code/status/", views.code_status, name="code-status"),
    path("<int:request_id>/sign/", views.sign, name="sign"),
    path("<int:request_id>/decline/", views.decline, name="decline"),
]

# Where the client's pages were: each redirects to its page in the client zone.
moved_client_patterns = [
    path("inbox/", views.client_page_moved, {"name": "inbox"}),
    path("inbox/<int:request_id>/", views.client_page_moved, {"name": "inbox-detail"}),
    path("inbox/<int:request_id>/code/", views.client_page_moved, {"name": "code-request"}),
    path("inbox/<int:request_id>/code/status/", views.client_page_moved, {"name": "code-status"}),
    path("inbox/<int:request_id>/sign/", views.client_page_moved, {"name": "sign"}),
    path("inbox/<int:request_id>/decline/", views.client_page_moved, {"name": "decline"}),
]

urlpatterns = [
    path("signing/", include(sender_patterns + moved_client_patterns)),
    path("client/sign/", include(client_patterns)),
]
