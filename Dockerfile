# Partnerzone web, worker and beat image.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core gettext curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY . .
COPY --from=assets /build/node_modules/bootstrap/dist/css/bootstrap.min.css static/vendor/bootstrap/
COPY --from=assets /build/node_modules/bootstrap/dist/js/bootstrap.bundle.min.js static/vendor/bootstrap/
COPY --from=assets /build/node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
COPY --from=assets /build/node_modules/chart.js/dist/chart.umd.min.js static/vendor/chartjs/
RUN DEBUG=false PORTAL_ALLOW_DEV_SECRET=true python manage.py collectstatic --noinput \
 && useradd --system --home /app partnerzone && mkdir -p var/media && chown -R partnerzone var
USER partnerzone
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "-c", "gunicorn.conf.py"]
