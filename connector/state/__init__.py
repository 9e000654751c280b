"""The bridge's durable memory, one job per module: schema (migrations), rows (value types),
store (the interface), sqlite (the bundled backend), lock (one writer per state file)."""
