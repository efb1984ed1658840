"""Parallel submissions of one code on PostgreSQL: exactly one wins (the device row is locked)."""

import threading

import pytest
from django.db import connection
from django.test import RequestFactory
from django_otp.plugins.otp_static.models import StaticToken

from portal.accounts import two_factor
from tests.conftest import otp_device_for

from .conftest import totp_code, verify_request


def _verify_in_parallel(user, token: str, *, attempts: int = 6) -> list[bool]:
    """Submit the same code from several threads at once, each with its own connection."""
    barrier = threading.Barrier(attempts, timeout=10)
    results = []

    def attempt():
        try:
            request = verify_request(RequestFactory(), user)
            barrier.wait()
            results.append(two_factor.second_factor_verify(request=request, token=token).ok)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_accepts_a_recovery_code_once_under_parallel_requests(cast):
    otp_device_for(cast.client1)
    code = two_factor.recovery_codes_regenerate(user=cast.client1)[0]

    results = _verify_in_parallel(cast.client1, code)

    assert sorted(results) == [False] * 5 + [True]
    assert StaticToken.objects.filter(device__user=cast.client1).count() == 9


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_accepts_a_totp_code_once_under_parallel_requests(cast):
    device = otp_device_for(cast.client1)

    results = _verify_in_parallel(cast.client1, totp_code(device))

    assert sorted(results) == [False] * 5 + [True]
