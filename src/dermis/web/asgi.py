"""ASGI entry point, e.g. `uvicorn dermis.web.asgi:application`."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dermis.web.settings")

application = get_asgi_application()
