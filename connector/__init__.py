"""Marketplace stock sync: the bridge from Odoo's stock to every marketplace."""

__version__ = "0.1.0"
