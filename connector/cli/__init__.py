"""The `stock-bridge` command line: app (parsing, routing), common (config, exit codes,
--json errors), render (tables), one module per subcommand (run, resync, explain, readers
for status/timeline, demo) and remote (calls to a running bridge's /v1/resync)."""
