"""`python -m connector.cli ...` is `stock-bridge ...`."""

import sys

from connector.cli.app import main

sys.exit(main())
