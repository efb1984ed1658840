"""Per-key rate limit, counted in the shared cache (Redis in production).

Requests with a session are not counted here: people clicking through pages are not the load a
script can make. The rate is read per request from PORTAL_API_KEY_RATE ("120/minute"), so an
override applies at once. If the cache is unreachable the call is let through: the limit
protects capacity, and refusing every API call during a cache outage would cost more.
"""

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from portal.core.cache import PRIMARY_ERRORS as CACHE_ERRORS

from .models import ApiKey

logger = logging.getLogger(__name__)


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"
    cache_format = "throttle:%(scope)s:%(ident)s"

    def get_rate(self):
        return settings.PORTAL_API_KEY_RATE

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS:
            logger.warning("cache unreachable; API key rate limit not applied", exc_info=True)
            return True
