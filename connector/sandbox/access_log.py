"""The sandbox's werkzeug access log, without credentials.

Several real APIs carry secrets in the query string (Lazada and Shopee `access_token` and
`sign`, WooCommerce `consumer_key`/`consumer_secret` or `oauth_signature`), and werkzeug's
default handler logs the request line as sent. This handler masks the value of every
secret-looking query parameter in anything it logs and keeps the rest for debugging.

Usage: ``make_server(host, port, app, request_handler=RedactingRequestHandler)``
"""

from __future__ import annotations

import logging
import re
from typing import Any

from werkzeug.serving import WSGIRequestHandler

MASK = "***"
# Parameter names that carry a credential or a signature in some marketplace's API.
SECRET_NAME = re.compile(r"token|sign|secret|key|password|passwd|auth|code|nonce|session", re.IGNORECASE)
_PARAM = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;\s\"'?#]+)=(?P<value>[^&;\s\"'#]*)")


def redact_query(text: str) -> str:
    """`/a?access_token=x&item_id=1` -> `/a?access_token=***&item_id=1` (anywhere in `text`)."""

    def mask(found: re.Match[str]) -> str:
        if not SECRET_NAME.search(found["name"]):
            return found[0]
        return f"{found['lead']}{found['name']}={MASK}"

    return _PARAM.sub(mask, text)


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler whose every log line (access and error) is redacted."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Building, styling and redacting the access line cost more than the sandbox's own
        # work on a request; skip it when the werkzeug logger would drop it anyway. A
        # logger with no level of its own gets INFO from werkzeug on first use: keep it.
        logger = logging.getLogger("werkzeug")
        if logger.level != logging.NOTSET and not logger.isEnabledFor(logging.INFO):
            return
        super().log_request(code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        text = message % args if args else message
        super().log(type, "%s", redact_query(text))
