"""XML-RPC transport: `POST /xmlrpc/2/<service>`, marshalled by the standard library and
sent through our requests session (timeouts, retries and redaction like the others).

Faults on `/xmlrpc/2/` carry an int code (odoo/addons/base/controllers/rpc.py): 1
application error (faultString = the traceback), 2 warning (UserError and subclasses,
faultString = the message), 3 AccessDenied, 4 AccessError. The historic string codes
("warning -- MissingError\\n\\n<msg>") are understood too.

Usage::

    transport = XmlRpcTransport(poster, database="demo", username="bridge", secret="...")
    transport.login(); transport.execute_kw("res.partner", "search", [[]], {"limit": 1})
"""

from __future__ import annotations

import xmlrpc.client
from typing import Any
from xml.parsers.expat import ExpatError

from connector.erp.errors import (
    ErpError,
    MissingRecordError,
    Redactor,
    classify_fault,
)
from connector.erp.transport import ServiceRpcTransport

_FAULT_NAMES = {1: "", 2: "odoo.exceptions.UserError", 3: "odoo.exceptions.AccessDenied",
                4: "odoo.exceptions.AccessError"}


class XmlRpcTransport(ServiceRpcTransport):
    """Odoo's `/xmlrpc/2/common` and `/xmlrpc/2/object` endpoints."""

    name = "xmlrpc"

    def _rpc(self, service: str, method: str, args: list[Any]) -> Any:
        body = xmlrpc.client.dumps(tuple(args), method, allow_none=True)
        response = self._http.post(f"/xmlrpc/2/{service}", data=body.encode("utf-8"),
                                   headers={"Content-Type": "text/xml"})
        what = f"{service}.{method}"
        if response.status_code == 404:
            raise ErpError(f"no XML-RPC endpoint at {self._http.base_url} ({what}): "
                           "is this an Odoo URL?")
        if response.status_code >= 400:
            raise classify_fault("", f"HTTP {response.status_code} from {what}",
                                 response.status_code)
        error: ErpError | None = None
        try:
            params, _ = xmlrpc.client.loads(response.content, use_datetime=False)
        except xmlrpc.client.Fault as fault:
            error = fault_to_error(fault, self._http.redactor)
        except ExpatError:
            error = ErpError(f"not an XML-RPC answer from {what}: {self._http.excerpt(response)}")
        if error is not None:
            # raised outside the handler so the unredacted fault is not kept as __context__
            raise error
        return params[0] if params else None


def fault_to_error(fault: xmlrpc.client.Fault, redactor: Redactor) -> ErpError:
    """Map an XML-RPC fault (int or historic string code) to a typed error."""
    code, text = fault.faultCode, redactor.redact(str(fault.faultString))
    if isinstance(code, int):
        if code == 1:
            name, message = _last_exception_line(text)
            return classify_fault(name, message)
        return classify_fault(_FAULT_NAMES.get(code, ""), text)
    code_text = redactor.redact(str(code))
    if code_text.startswith("warning -- "):
        head, _, message = code_text.removeprefix("warning -- ").partition("\n\n")
        if head.strip() == "MissingError":
            return MissingRecordError(message)
        return classify_fault(f"odoo.exceptions.{head.strip()}", message)
    if code_text == "AccessDenied":
        return classify_fault("odoo.exceptions.AccessDenied", text or code_text)
    return classify_fault("", code_text)


def _last_exception_line(traceback_text: str) -> tuple[str, str]:
    """("module.ExcName", "message") from the last line of a formatted traceback."""
    lines = [line for line in traceback_text.strip().splitlines() if line.strip()]
    if not lines:
        return "", ""
    name, sep, message = lines[-1].partition(": ")
    if not sep or " " in name:
        return "", lines[-1]
    return name, message
