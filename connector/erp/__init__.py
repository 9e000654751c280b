"""Talking to Odoo: transports (jsonrpc, xmlrpc, json2), typed errors, StockSource."""
