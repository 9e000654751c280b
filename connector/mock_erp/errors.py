"""Odoo's exception classes as the mock raises them, and how each is named on the wire.

An `OdooError` carries Odoo's dotted class name (`odoo.exceptions.UserError`) so the
protocol layers can build the same error envelopes Odoo builds. Python's own exceptions
(ValueError, TypeError, KeyError, AttributeError) pass through as `builtins.<Name>`, as
in Odoo. Usage::

    raise UserError("You cannot validate a transfer if no quantities are reserved.")
"""

from __future__ import annotations

from typing import Any


class OdooError(Exception):
    """Base of the odoo.exceptions.* family (Odoo's UserError tree)."""

    odoo_name = "odoo.exceptions.UserError"
    http_status = 422  # JSON-2 status (odoo/exceptions.py)
    xmlrpc_code = 2  # rpc.py: warnings are fault 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserError(OdooError):
    pass


class ValidationError(OdooError):
    odoo_name = "odoo.exceptions.ValidationError"


class MissingError(OdooError):
    odoo_name = "odoo.exceptions.MissingError"
    http_status = 404


class AccessError(OdooError):
    odoo_name = "odoo.exceptions.AccessError"
    http_status = 403
    xmlrpc_code = 4


class AccessDenied(OdooError):
    odoo_name = "odoo.exceptions.AccessDenied"
    http_status = 403
    xmlrpc_code = 3

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class UnknownDatabase(Exception):
    """What Odoo 16-19 answer for a database that does not exist: not AccessDenied or
    False but PostgreSQL's refusal to connect, raised while opening the registry
    (psycopg2.OperationalError; XML-RPC fault 1 with the traceback, JSON-RPC error name
    "psycopg2.OperationalError"), for `common.authenticate`/`login` and `object` alike."""

    def __init__(self, database: Any) -> None:
        super().__init__(f'connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
                         f'database "{database}" does not exist\n')


# Named as real Odoo's answer names it (odoo.http.serialize_exception uses the class's
# module and name; so does the traceback of an XML-RPC fault).
UnknownDatabase.__module__ = "psycopg2"
UnknownDatabase.__qualname__ = UnknownDatabase.__name__ = "OperationalError"


def exception_name(exc: BaseException) -> str:
    """The dotted name Odoo puts in an error's `name` (odoo.http.serialize_exception)."""
    if isinstance(exc, OdooError):
        return exc.odoo_name
    cls = type(exc)
    module = "builtins" if cls.__module__ == "builtins" else cls.__module__
    return f"{module}.{cls.__qualname__}"


def exception_message(exc: BaseException) -> str:
    if isinstance(exc, OdooError):
        return exc.message
    return str(exc.args[0]) if exc.args else str(exc)
