"""Pure stock computation: no I/O.

- model.py      the shared records (Channel, Listing, Quant, Allocation, StockSnapshot, ...)
- locations.py  which locations feed a channel (child_of roots, exclusions, company), and why not
- buffers.py    a listing's buffer and where it comes from
- plans.py      what a channel's listings share (scope, zero action, caps, buffers); holds
- result.py     ListingResult and its Explanation (render() for people, to_dict() for --json)
- reference.py  compute_listings_reference: DESIGN.md's formula, one listing at a time
- columns.py    ColumnarSnapshot: listings and quants as numpy columns, built page by page
- fast.py       compute_table: the same formula over columns, all listings at once
- table.py      ResultTable: compact results, rows and explanations made on demand
- baseline.py   Baseline (last pushed per listing, as arrays) and changed_rows (the compare)
- compute.py    compute_listings(snapshot, now, ...): the engine's entry, picks one of the two

Usage::

    from connector.stock.compute import compute_listings
    for r in compute_listings(snapshot, now, previous_actions=last_actions):
        print(r.channel_code, r.sku, r.quantity, r.action.value)
"""
