"""A lightweight mock ERP that speaks Odoo's real external protocols (tests, demo)."""
