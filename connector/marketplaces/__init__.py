"""Marketplace adapters: one module per marketplace behind connector.marketplaces.base."""
