#!/usr/bin/env bash
# The addon's own tests on a real Odoo 18.0, through the kit beside the repository
# ($SHARED_DIR/odoo18 or ../shared/odoo18). Without the kit (a checkout elsewhere) this one
# step is skipped with one line; with it, any failing test fails `make test`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
kit="${SHARED_DIR:-$repo/../shared}/odoo18/odoo.sh"
if [ ! -x "$kit" ]; then
  echo "skipped: the addon's tests on real Odoo 18 (no kit at $kit; set SHARED_DIR)"
  exit 0
fi
log="$(mktemp -t odoo-addon-tests.XXXXXX.log)"
# Odoo's test run serves HTTP (8069 by default): a free port, through the config file Odoo
# reads from $ODOO_RC, so that a developer's running Odoo or a parallel run does not clash.
rc="$(mktemp -t odoo-addon-tests.XXXXXX.conf)"
trap 'rm -f "$rc"' EXIT
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
printf '[options]\nhttp_port = %s\nhttp_interface = 127.0.0.1\n' "$port" >"$rc"
export ODOO_RC="$rc"
echo "addon tests on real Odoo 18 (log: $log)"
# The kit prints Odoo's whole test log; keep it in a file and show the verdict, and the
# failures when there are any.
if "$kit" test "$repo/addons" marketplace_stock_sync >"$log" 2>&1; then
  grep -E '^odoo.sh: ' "$log" | tail -n 1
else
  grep -E ' (ERROR|CRITICAL|FAIL)[: ]|^(FAIL|ERROR):|Traceback|AssertionError|^odoo.sh: ' "$log" | tail -n 60
  exit 1
fi
