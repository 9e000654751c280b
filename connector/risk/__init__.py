"""Oversell risk: tail math, buffer advice and a seeded oversell simulator (issue 13).

Everything here except `commands.py` (the CLI glue) and `shop.py` (the ERP reads) is pure: no I/O, no
clock, no global random state, so it can be tested in milliseconds and trusted by the
simulator's check against the closed form (docs/DESIGN.md, "Oversell risk").
"""
