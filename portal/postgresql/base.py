"""Django's PostgreSQL backend, with a health check that costs no round trip.

Persistent connections (CONN_MAX_AGE) must not hand a request a connection the server has
ended (a restart, a failover, `pg_terminate_backend`). Django's check (CONN_HEALTH_CHECKS) sends
`SELECT 1` before the first query of every request: a round trip on every page. A connection the
server ended always has something to read — the server's goodbye or the end of the stream — while
an idle healthy one has nothing, so a zero-timeout poll of the socket tells them apart; only when
something is waiting is the full check made.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if self.connection is None or not self.health_check_enabled or self.health_check_done or self.pool:
            return
        if self._server_may_have_ended() and not self.is_usable():
            self.close()
        self.health_check_done = True

    def _server_may_have_ended(self) -> bool:
        if self.connection.closed or self.connection.broken:
            return True
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)
