import os

from celery import Celery

from portal.core.worker_heartbeat import WorkerHeartbeatStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker writes its heartbeat for /healthz (portal/core/worker_heartbeat.py).
app.steps["consumer"].add(WorkerHeartbeatStep)
