"""A read-only FHIR REST endpoint over the same mapping as the export (see views.py)."""
