from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: a strict CSP and a Permissions-Policy on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        path = request.path
        html = "text/html" in response.get("Content-Type", "")
        # The browsable API and the Swagger page ship inline scripts and styles of their own, and so
        # do Django's debug pages (a technical 404 or 500, only ever shown with DEBUG on).
        if html and (path.startswith(("/api/docs", "/api/v1")) or _is_django_debug_page(response)):
            csp = settings.PORTAL_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
                "style-src 'self'", "style-src 'self' 'unsafe-inline'"
            )
        else:
            csp = settings.PORTAL_CSP
        response.setdefault("Content-Security-Policy", csp)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        # Referrer-Policy and X-Content-Type-Options come from Django's SecurityMiddleware (settings).
        return response


# Django's technical 404 and 500 pages (the 500 page also answers a 400 in DEBUG) open with this tag;
# the portal's own pages never carry it.
_DJANGO_DEBUG_PAGE_MARK = b'<meta name="robots" content="NONE,NOARCHIVE">'


def _is_django_debug_page(response) -> bool:
    return (
        settings.DEBUG
        and response.status_code >= 400
        and not response.streaming
        and _DJANGO_DEBUG_PAGE_MARK in response.content[:1024]
    )


def request_language(request, user, *, supported=None) -> str:
    """The language of a page for this request and user: the language cookie, else the user's stored
    language, else the browser's Accept-Language, else the default.

    Also asked for the page after a login or logout, whose user is not the one the request came with.
    """
    supported = supported or frozenset(code for code, _name in settings.LANGUAGES)
    language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if language in supported:
        return language
    if user is not None and user.is_authenticated and getattr(user, "language", "") in supported:
        return user.language
    return translation.get_language_from_request(request)


class LanguageMiddleware:
    """The language of the request: the language cookie, else the signed-in user's stored language,
    else the browser's Accept-Language, else the default.

    In place of Django's LocaleMiddleware (the portal has no language prefixes in its URLs) plus a
    second pass for the user's language: one decision per request, placed after authentication.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = frozenset(code for code, _name in settings.LANGUAGES)

    def __call__(self, request):
        language = request_language(request, getattr(request, "user", None), supported=self.supported)
        if translation.get_language() != language:  # a thread serves one language after another
            translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        return response
