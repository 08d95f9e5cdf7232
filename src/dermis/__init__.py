"""Dermis: clinic software for skin resurfacing (microneedling and microdermabrasion)."""

__version__ = "0.1.0"
