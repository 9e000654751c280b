"""Pure stock computation: dataclasses in, dataclasses out, no I/O.

- model.py      the shared records (Channel, Listing, Quant, Allocation, StockSnapshot, ...)
- locations.py  which locations feed a channel (child_of roots, exclusions, company), and why not
- buffers.py    a listing's buffer and where it comes from
- result.py     ListingResult and its Explanation (render() for people, to_dict() for --json)
- compute.py    compute_listings(snapshot, now, ...) -> list[ListingResult]: DESIGN.md's formula

Usage::

    from connector.stock.compute import compute_listings
    for r in compute_listings(snapshot, now, previous_actions=last_actions):
        print(r.channel_code, r.sku, r.quantity, r.action.value)
"""
