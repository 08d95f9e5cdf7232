"""Tenancy: clinics, their locations and staff, and API tokens (services and selectors)."""
