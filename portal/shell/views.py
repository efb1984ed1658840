from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.accounts.roles import Role
from portal.core import navigation
from portal.core.errors import error_json_response

from . import health


@login_required
def home(request):
    """Send each user to the home page of their main role."""
    return redirect(navigation.role_home_url(request.user.primary_role))


@login_required
def role_home(request, role):
    if role not in Role.values:
        raise Http404
    if not request.user.has_role(role):
        raise PermissionDenied
    from portal.accounts.two_factor import second_factor_state
    from portal.core.work import work_counts_for
    from portal.notifications.selectors import notification_list

    work = work_counts_for(request.user)
    return render(
        request,
        "shell/role_home.html",
        {
            "role": Role(role),
            "work": work,
            "second_factor": second_factor_state(request.user)
            if any(row["second_factor_for"] for row in work)
            else None,
            "nav_items": navigation.items_for(request.user),
            "latest_notifications": notification_list(user=request.user)[:5],
        },
    )


@login_required
def welcome(request):
    """The page for a user who holds no role yet."""
    if request.user.primary_role:
        return redirect("shell:home")
    return render(request, "shell/welcome.html")


@never_cache
@require_GET
def healthz(request):
    """For load balancers and compose, without login: 200 when every part answers, else 503.

    Answers within PORTAL_HEALTHZ_TIMEOUT whatever hangs, and says only a fixed word per part.
    """
    healthy, results = health.run_checks()
    return JsonResponse({"status": "ok" if healthy else "error", "checks": results}, status=200 if healthy else 503)


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    if request.path.startswith("/api/"):
        # A script reads the API's error format, never an HTML page.
        return error_json_response(
            code="server_error", message=_("Something went wrong on our side; please try again later."), status=500
        )
    return render(request, "500.html", status=500)


def csrf_failure(request, reason=""):
    """A refused form (a stale page, an ended session) on the portal's own page: Django's has inline styles."""
    return render(request, "403_csrf.html", status=403)


@require_GET
def favicon(request):
    """Pages that name no icon (admin, API docs) make browsers ask for /favicon.ico: send them to the SVG."""
    response = redirect(static("favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


def set_language(request):
    """Django's language switch, remembered on the user so e-mails and SMS speak it too."""
    from django.conf import settings
    from django.views.i18n import set_language as django_set_language

    response = django_set_language(request)
    language = request.POST.get("language", "")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and request.user.language != language
    ):
        from django.contrib.auth import get_user_model

        from portal.accounts.backends import signed_in_forget

        get_user_model().objects.filter(pk=request.user.pk).update(language=language)
        # update() sends no signal: forget the cached signed-in user, or a new session would read the old language.
        signed_in_forget(request.user.pk)
    return response
