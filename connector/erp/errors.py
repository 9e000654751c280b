"""Typed errors for everything that can go wrong talking to Odoo, and the one fault table.

Each transport hands the server's fault (exception class name + message, or HTTP status)
to `classify_fault`, so jsonrpc, xmlrpc and json2 raise the same types for the same fault.
Messages are redacted before they get here (see `Redactor`); they never carry a secret.

Usage::

    try:
        client.call("stock.quant", "search_read", domain, fields)
    except TransientError:
        ...  # retried already; try again later
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "***"


class ErpError(Exception):
    """Base of every error the ERP client raises."""


class AuthenticationError(ErpError):
    """Wrong login, password or API key (Odoo's AccessDenied, json2's 401)."""


class AccessError(ErpError):
    """The bridge user may not read or write that model or record (Odoo's AccessError)."""


class MissingRecordError(ErpError):
    """A record does not exist or was deleted (Odoo's MissingError)."""


class ValidationError(ErpError):
    """Odoo refused the values or the call (UserError, ValidationError, bad parameters)."""


class TransientError(ErpError):
    """Worth trying again later: connection refused/reset, timeout, 502/503/504, lock."""


class MissingModelError(ErpError):
    """A model, field or method the bridge needs is absent; the message says what to do."""


class UnknownDatabaseError(ErpError):
    """The database named by erp.database does not exist on the server (permanent: Odoo
    answers it with PostgreSQL's OperationalError, which would otherwise look transient)."""


MIN_SECRET_LEN = 4


class Redactor:
    """Replaces every known secret in a text with `***`.

    Secrets shorter than `MIN_SECRET_LEN` are ignored (as in the marketplace redactor):
    replacing a one-letter password everywhere would garble every message and hide nothing
    an attacker could not guess. Usage: ``Redactor(["s3cret"]).redact("pw=s3cret") == "pw=***"``
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # longest first, so a secret containing another is replaced whole
        self._secrets = sorted(
            {s for s in secrets if s and len(s) >= MIN_SECRET_LEN}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


_MISSING_MODEL = re.compile(r"Object (\S+) doesn't exist|model '?([\w.]+)'? does not exist")
_INVALID_FIELD = re.compile(r"Invalid field '?([\w.]+)'? on model '?([\w.]+)'?")
_MISSING_METHOD = re.compile(r"method '?([\w.]+)'? does not exist", re.IGNORECASE)
_MISSING_RECORD = re.compile(r"Record does not exist or has been deleted")
# Odoo opens the registry of the named database and PostgreSQL refuses the connection:
# 'connection to server at "h", port p failed: FATAL:  database "x" does not exist'
_UNKNOWN_DATABASE = re.compile(r'database "([^"]*)" does not exist')
BRIDGE_GROUP_HINT = (
    "give the bridge user the group Marketplace Bridge (Settings › Users, developer mode, "
    "Technical; README \"Run with a real Odoo\" step 2)"
)
_TRANSIENT_NAMES = (
    "SerializationFailure",
    "ConcurrencyError",
    "LockError",
    "LockNotAvailable",
    "OperationalError",
    "TransactionRollbackError",
)


def missing_model_hint(model: str) -> str:
    """What a human should do when `model` is absent on the server."""
    if model.startswith("marketplace."):
        return (
            f"model {model} is missing: install or upgrade the Odoo addon "
            "marketplace_stock_sync, or set erp.mode = \"no_addon\""
        )
    if model.startswith("stock."):
        return f"model {model} is missing: install the Inventory (stock) app in Odoo"
    return f"model {model} is missing on the Odoo server"


def classify_fault(name: str, message: str, status: int | None = None) -> ErpError:
    """The one table: an Odoo fault (exception class name, message, HTTP status) -> typed error.

    `name` is the server's exception class ("odoo.exceptions.AccessError",
    "werkzeug.exceptions.Unauthorized", an XML-RPC fault code's meaning...), `message` its
    text (already redacted). Usage: ``raise classify_fault(name, message, status)``.
    """
    short = name.rsplit(".", 1)[-1]
    text = f"{short}: {message}" if short else message
    if status == 401 or short in ("AccessDenied", "SessionExpiredException", "Unauthorized"):
        return AuthenticationError(f"Odoo refused the credentials ({text})")
    if short == "AccessError" or status == 403:
        # Odoo's text runs over several lines (the groups that may, "Contact your
        # administrator"); the first names the model, and the bridge says what to do.
        first = text.strip().splitlines()[0] if text.strip() else text
        return AccessError(f"{first.rstrip('.')}: {BRIDGE_GROUP_HINT}")
    if match := _UNKNOWN_DATABASE.search(message):
        return UnknownDatabaseError(
            f"the Odoo server has no database \"{match.group(1)}\": check erp.database "
            "(STOCK_BRIDGE_ERP_DATABASE)")
    if short in _TRANSIENT_NAMES or status in (409, 429, 502, 503, 504):
        return TransientError(text)
    if match := _MISSING_MODEL.search(message):
        model = match.group(1) or match.group(2) or "?"
        return MissingModelError(missing_model_hint(model))
    if match := _INVALID_FIELD.search(message):
        return MissingModelError(
            f"field {match.group(1)} is missing on {match.group(2)}: check the Odoo version "
            "and that the addon marketplace_stock_sync is up to date"
        )
    if short == "AttributeError" or (status == 404 and _MISSING_METHOD.search(message)):
        return MissingModelError(
            f"{message}: the method is missing on the server (addon not installed or outdated?)"
        )
    if short == "MissingError" or _MISSING_RECORD.search(message):
        return MissingRecordError(text)
    if short in ("UserError", "ValidationError", "RedirectWarning", "UnprocessableEntity",
                 "BadRequest", "ValueError", "TypeError") or status in (400, 422):
        return ValidationError(text)
    return ErpError(text)
