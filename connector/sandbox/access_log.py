"""The sandbox's werkzeug access log, without credentials.

Several real APIs carry secrets in the query string (Lazada and Shopee `access_token` and
`sign`, WooCommerce `consumer_key`/`consumer_secret` or `oauth_signature`), and werkzeug's
default handler logs the request line as sent. This handler masks the value of every
secret-looking query parameter in anything it logs and keeps the rest for debugging.

Usage: ``make_server(host, port, app, request_handler=RedactingRequestHandler)``
"""

from __future__ import annotations

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

    def log(self, type: str, message: str, *args: Any) -> None:
        text = message % args if args else message
        super().log(type, "%s", redact_query(text))
