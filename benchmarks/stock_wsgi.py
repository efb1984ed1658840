"""WSGI entry of the stock Django floor (benchmarks/stock_settings.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.stock_settings")
application = get_wsgi_application()
