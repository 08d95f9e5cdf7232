"""WSGI entry point, e.g. `gunicorn dermis.web.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dermis.web.settings")

application = get_wsgi_application()
