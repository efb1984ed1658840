"""The real thing: a Celery worker subprocess on a private Redis, the loopback SMTP and Twilio fakes.

The data must be committed for the worker to see it, hence `transactional_db` (via `real_worker`).
"""

import time

import pytest

from portal.notifications import services
from portal.notifications.delivery import outbox_sweep as outbox_sweep_here
from portal.notifications.models import OutboxMessage
from portal.notifications.tasks import outbox_sweep
from tests.factories import UserFactory
from tests.fakes.fixtures import wait_until

pytestmark = pytest.mark.worker
Status = OutboxMessage.Status


@pytest.fixture
def carla(real_worker):
    """A client who wants security notices by e-mail and SMS."""
    user = UserFactory(email="carla@example.com", first_name="Carla", phone="+4915112340000")
    services.preferences_update(user=user, event="security.password_changed", in_app=True, email=True, sms=True)
    return user


def all_sent(messages) -> bool:
    return all(OutboxMessage.objects.get(pk=m.pk).status == Status.SENT for m in messages)


def worker_idle(app, private_redis) -> bool:
    """Nothing queued in Redis and nothing running or reserved in the worker."""
    with private_redis.client() as redis:
        if redis.llen("celery"):
            return False
    inspect = app.control.inspect(timeout=1)
    active, reserved = inspect.active() or {}, inspect.reserved() or {}
    return bool(active) and not any(active.values()) and not any(reserved.values())


def test_the_worker_delivers_a_notifications_email_and_sms(carla, fake_smtp, fake_twilio):
    result = services.notify(user=carla, event="security.password_changed")

    [email] = fake_smtp.wait_for_messages(1)
    [sms] = fake_twilio.wait_for_messages(1)
    wait_until(lambda: all_sent(result.messages), message="both rows sent")
    assert email["Subject"] == "Your Partnerzone password was changed"
    assert email["To"] == "carla@example.com"
    assert (sms["to"], sms["body"]) == ("+4915112340000", result.messages[1].body)
    assert OutboxMessage.objects.get(channel="sms").provider_message_id == sms["sid"]


def test_redis_down_while_the_request_commits_delivers_once_after_it_returns(
    carla, private_redis, fake_smtp, fake_twilio, celery_on_private_redis
):
    private_redis.stop()

    started = time.monotonic()
    result = services.notify(user=carla, event="security.password_changed")
    elapsed = time.monotonic() - started

    assert elapsed < 3
    assert [OutboxMessage.objects.get(pk=m.pk).status for m in result.messages] == [Status.PENDING] * 2

    private_redis.start()
    wait_until(lambda: _publish(outbox_sweep), message="publishing the sweep after Redis returned")

    fake_smtp.wait_for_messages(1)
    fake_twilio.wait_for_messages(1)
    wait_until(lambda: all_sent(result.messages), message="both rows sent")
    outbox_sweep.delay()
    outbox_sweep_here()
    wait_until(lambda: worker_idle(celery_on_private_redis, private_redis), message="worker idle")
    assert len(fake_smtp.messages) == 1
    assert len(fake_twilio.messages) == 1


def test_a_hung_redis_neither_blocks_the_request_nor_causes_a_double_send(
    carla, private_redis, fake_smtp, fake_twilio, celery_on_private_redis
):
    private_redis.pause()

    started = time.monotonic()
    result = services.notify(user=carla, event="security.password_changed")
    elapsed = time.monotonic() - started

    assert elapsed < 4  # one publish times out after 2 s; the second is not even tried
    assert {OutboxMessage.objects.get(pk=m.pk).status for m in result.messages} == {Status.PENDING}

    # The publish written before the pause may still be executed now, besides the sweep: a race
    # for the same rows that the conditional claim must decide.
    private_redis.resume()
    wait_until(lambda: _publish(outbox_sweep), message="publishing the sweep after Redis resumed")

    fake_smtp.wait_for_messages(1)
    fake_twilio.wait_for_messages(1)
    wait_until(lambda: all_sent(result.messages), message="both rows sent")
    outbox_sweep.delay()
    wait_until(lambda: worker_idle(celery_on_private_redis, private_redis), message="worker idle")
    assert len(fake_smtp.messages) == 1
    assert len(fake_twilio.messages) == 1


def _publish(task) -> bool:
    try:
        task.delay()
    except Exception:  # the pooled connection may still be the dead one; the next try reconnects
        return False
    return True
