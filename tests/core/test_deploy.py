"""The deployment files refer to things that exist, and production settings pass Django's deploy checks.

There is no Docker engine on the CI machine, so docker-compose.yml is checked by reading it.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_web_worker_beat_postgres_and_redis_with_health_checks():
    services = compose()["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
        assert services[name]["environment"]["REDIS_URL"].startswith("redis://redis:")


def test_compose_commands_refer_to_modules_and_files_in_the_repository():
    services = compose()["services"]
    web = services["web"]["command"]
    assert "portal.wsgi:application" in web and (ROOT / "portal" / "wsgi.py").exists()
    assert "gunicorn.conf.py" in web and (ROOT / "gunicorn.conf.py").exists()
    assert "manage.py migrate" in web and (ROOT / "manage.py").exists()
    for name in ("worker", "beat"):
        assert services[name]["command"].startswith("celery -A portal ")
    assert (ROOT / "portal" / "celery.py").exists()
    health_url = services["web"]["healthcheck"]["test"][-1]
    assert resolve(re.sub(r"^https?://[^/]+", "", health_url)).url_name == "healthz"
    assert (ROOT / ".env.example").exists()


def test_the_dockerfile_copies_files_that_exist():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(\S+)", dockerfile, flags=re.M):
        if source != ".":
            assert (ROOT / source).exists(), source
    # The vendored assets it copies are the ones the Makefile copies for the demo.
    makefile = (ROOT / "Makefile").read_text()
    for asset in re.findall(r"node_modules/(\S+)", dockerfile):
        assert f"node_modules/{asset}" in makefile, asset


def test_production_settings_pass_the_deploy_checks():
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "SECURE_", "DEBUG", "CELERY_", "DJANGO_"))
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="partnerzone.example",
        DJANGO_SETTINGS_MODULE="portal.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "PORTAL_ALLOW_DEV_SECRET"}}
    env["DEBUG"] = "false"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_compose_runs_the_portal_as_a_runtime_role_and_migrates_as_the_owner():
    services = compose()["services"]
    runtime_user = re.match(r"postgres://([^:]+):", services["web"]["environment"]["DATABASE_URL"]).group(1)
    owner_user = services["postgres"]["environment"]["POSTGRES_USER"]
    assert runtime_user != owner_user
    web = services["web"]
    assert web["environment"]["DATABASE_OWNER_URL"].startswith(f"postgres://{owner_user}:")
    assert "manage.py migrate --database owner" in web["command"]
    assert f"manage.py db_grant_runtime_role {runtime_user}" in web["command"]
    # gunicorn itself never holds the owner's credentials, nor do worker and beat.
    assert "exec env -u DATABASE_OWNER_URL gunicorn " in web["command"]
    for name in ("worker", "beat"):
        assert "DATABASE_OWNER_URL" not in services[name]["environment"]
        assert services[name]["environment"]["DATABASE_URL"] == web["environment"]["DATABASE_URL"]
    # The postgres image creates the runtime role from the mounted init directory.
    [initdb] = [v for v in services["postgres"]["volumes"] if v.endswith(":/docker-entrypoint-initdb.d:ro")]
    scripts = list((ROOT / initdb.split(":")[0]).glob("*.sql"))
    assert any(f"CREATE ROLE {runtime_user} LOGIN" in script.read_text() for script in scripts)
