"""A local sandbox that serves the stock endpoints of all ten marketplaces."""
