"""The REST API (django-ninja) at /api/: tokens, problem+json errors, one router per resource."""
