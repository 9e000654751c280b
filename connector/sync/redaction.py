"""Keep credentials that travel in URLs out of third-party log lines.

Several marketplaces put credentials in the query string (Shopee and Lazada sign with
`access_token`/`sign`, WooCommerce may use `consumer_key`/`consumer_secret`, an Odoo
automation sends `?token=`); urllib3 logs every request URL at DEBUG, werkzeug logs every
request it serves. `install()` puts a filter on those loggers that blanks the values of
secret-looking query parameters before any handler sees the record.

Usage::

    install()   # idempotent; Bridge.start() calls it
"""

from __future__ import annotations

import logging
import re

# Query parameters whose value is (or is derived from) a credential.
_SECRET_PARAM = re.compile(
    r"(?P<name>[?&](?:[\w.-]*(?:token|secret|sign|signature|password|passwd|key)[\w.-]*))=(?P<value>[^&\s\"']*)",
    re.IGNORECASE,
)
LOGGERS = ("urllib3.connectionpool", "werkzeug")


def redact_query(text: str) -> str:
    """`"GET /x?access_token=abc&item=1"` -> `"GET /x?access_token=***&item=1"`."""
    return _SECRET_PARAM.sub(lambda m: f"{m.group('name')}=***", text)


class QuerySecretFilter(logging.Filter):
    """Rewrites a record's message with secret query values blanked (never drops it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem, not ours
            return True
        redacted = redact_query(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install() -> None:
    """Add the filter to the loggers that print URLs (once per logger)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuerySecretFilter) for f in logger.filters):
            logger.addFilter(QuerySecretFilter())
