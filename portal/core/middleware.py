from django.conf import settings


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: a strict CSP and a Permissions-Policy on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        path = request.path
        # The browsable API and the Swagger page ship inline scripts and styles of their own.
        if path.startswith(("/api/docs", "/api/v1")) and "text/html" in response.get("Content-Type", ""):
            csp = settings.PORTAL_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
                "style-src 'self'", "style-src 'self' 'unsafe-inline'"
            )
        else:
            csp = settings.PORTAL_CSP
        response.setdefault("Content-Security-Policy", csp)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        response.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        response.setdefault("X-Content-Type-Options", "nosniff")
        return response
