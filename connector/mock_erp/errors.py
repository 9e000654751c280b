"""Odoo's exception classes as the mock raises them, and how each is named on the wire.

An `OdooError` carries Odoo's dotted class name (`odoo.exceptions.UserError`) so the
protocol layers can build the same error envelopes Odoo builds. Python's own exceptions
(ValueError, TypeError, KeyError, AttributeError) pass through as `builtins.<Name>`, as
in Odoo. Usage::

    raise UserError("You cannot validate a transfer if no quantities are reserved.")
"""

from __future__ import annotations


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


class OperationalError(Exception):
    """psycopg2.OperationalError: what Odoo answers (fault 1 / JSON-RPC error 200) when a
    call names a database that does not exist; it is not an Odoo exception."""

    def __init__(self, database: str) -> None:
        super().__init__(f'connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
                         f'database "{database}" does not exist\n')


OperationalError.__module__ = "psycopg2"


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
