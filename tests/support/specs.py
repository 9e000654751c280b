"""Check requests and replies against the marketplaces' published API specs.

The specs live in ``../shared/specs`` next to the repository (or ``$SHARED_DIR/specs``);
see that folder's README for where each file comes from. Tests that call these helpers are
skipped (with the reason) when the folder is absent.

How a call is matched: the URL's path must END with the spec's server base path plus one
of its path templates, so ``https://api.bol.com/retailer/offers/1/stock`` and
``http://127.0.0.1:8780/bol/retailer/offers/1/stock`` (the sandbox's per-marketplace prefix)
both match ``PUT /retailer/offers/{offer-id}/stock``. Bodies are checked with jsonschema
(draft 4 rules, as OpenAPI 3.0 / Swagger 2.0 use) over the operation's own schema, with the
spec's local ``$ref``s resolved; OpenAPI ``nullable`` is honoured. A status the spec does
not document (e.g. bol's 429) has no schema, so any body passes for it.

Marketplaces without a machine-readable spec (woocommerce, lazada, shopee; see the specs
README) are accepted as they are: the helpers return without checking. Shopify requests to
``.../graphql.json`` are checked with ``validate_shopify_graphql``.

Usage::

    validate_request("bol", "PUT", url, {"amount": 3, "managedByRetailer": True},
                     {"Content-Type": "application/vnd.retailer.v10+json"})
"""

from __future__ import annotations

import copy
import functools
import gzip
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import yaml
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT7

REPO_ROOT = Path(__file__).resolve().parents[2]

SPEC_FILES: dict[str, tuple[str, ...]] = {
    "amazon": ("amazon/listingsItems_2021-08-01.json", "amazon/feeds_2021-06-30.json"),
    "bol": ("bol/retailer.json", "bol/shared.json"),
    "ebay": ("ebay/sell_inventory_v1_oas3.json",),
    "etsy": ("etsy/3.0.0.json",),
    "kaufland": ("kaufland/swagger.json",),
    "zalando": ("zalando/zalando-stocks-api-openapi.yml",),
}
# No machine-readable spec exists for these (specs/README.md "Looked for, not found").
NO_SPEC = frozenset({"woocommerce", "lazada", "shopee"})
SHOPIFY_SCHEMA = "shopify/admin_schema_2025-01.json.gz"
HTTP_METHODS = ("get", "put", "post", "patch", "delete")

Body = bytes | str | dict[str, Any] | list[Any] | None


def shared_dir() -> Path:
    """The shared folder: $SHARED_DIR, else ``../shared`` next to the repository root."""
    env = os.environ.get("SHARED_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared"


def specs_dir() -> Path:
    """The specs folder; skips the calling test (with the reason) when it is missing."""
    folder = shared_dir() / "specs"
    if not folder.is_dir():
        pytest.skip(f"published API specs not found at {folder} (set SHARED_DIR)")
    return folder


# --------------------------------------------------------------------------- loading


def _nullable_to_type(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` (and Swagger's x-nullable) -> JSON Schema type + null."""
    if isinstance(node, dict):
        out = {k: _nullable_to_type(v) for k, v in node.items()}
        if (out.get("nullable") is True or out.get("x-nullable") is True) and "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
        return out
    if isinstance(node, list):
        return [_nullable_to_type(v) for v in node]
    return node


@dataclass(frozen=True)
class _Operation:
    spec_key: str  # which file
    method: str
    template: str
    pattern: re.Pattern[str]
    literal_len: int  # more literal characters = more specific template
    op: dict[str, Any]
    path_item: dict[str, Any]
    pointer: str  # JSON pointer of the operation inside its spec


@dataclass(frozen=True)
class _Spec:
    key: str
    uri: str
    doc: dict[str, Any]
    swagger2: bool
    base_path: str


def _base_path(doc: dict[str, Any]) -> str:
    if "swagger" in doc:
        return str(doc.get("basePath") or "").rstrip("/")
    servers = doc.get("servers") or [{}]
    url = str(servers[0].get("url", ""))
    for name, var in (servers[0].get("variables") or {}).items():
        url = url.replace("{" + name + "}", str(var.get("default", "")))
    path = urlsplit(url).path if "://" in url else ("" if not url.startswith("/") else url)
    return path.rstrip("/")


def _escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@functools.cache
def _load_spec(rel: str) -> _Spec:
    path = specs_dir() / rel
    raw: dict[str, Any]
    if rel.endswith((".yml", ".yaml")):
        # A JSON round trip turns YAML's integer keys (`207:`) into the strings JSON has.
        raw = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8"))))
        # The only copy is re-labelled 3.2.0 by a third party; its content is 3.0.3 (README).
        raw["openapi"] = "3.0.3"
        _drop_remote_refs(raw)
    else:
        raw = json.loads(path.read_text(encoding="utf-8"))
    doc = _nullable_to_type(raw)
    return _Spec(rel, f"urn:spec:{rel}", doc, "swagger" in doc, _base_path(doc))


def _drop_remote_refs(node: Any) -> None:
    """Zalando's default error $refs a remote problem schema: no network, so accept anything."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            node.clear()
            node["type"] = "object"
            return
        for value in node.values():
            _drop_remote_refs(value)
    elif isinstance(node, list):
        for value in node:
            _drop_remote_refs(value)


@functools.cache
def _operations(marketplace: str) -> tuple[_Operation, ...]:
    ops: list[_Operation] = []
    for rel in SPEC_FILES[marketplace]:
        spec = _load_spec(rel)
        for template, item in spec.doc.get("paths", {}).items():
            full = spec.base_path + template
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(full))
            pattern = re.compile(r"^(?:/.*)?" + regex + "$")
            literal = len(re.sub(r"\{[^}]+\}", "", full))
            for method in HTTP_METHODS:
                if method in item:
                    pointer = f"/paths/{_escape_pointer(template)}/{method}"
                    ops.append(
                        _Operation(rel, method, template, pattern, literal, item[method], item, pointer)
                    )
    return tuple(ops)


@functools.cache
def _registry() -> Registry:  # type: ignore[type-arg]
    registry: Registry = Registry()  # type: ignore[type-arg]
    for files in SPEC_FILES.values():
        for rel in files:
            spec = _load_spec(rel)
            registry = registry.with_resource(spec.uri, DRAFT4.create_resource(spec.doc))
    return registry


def _find_operation(marketplace: str, method: str, url: str) -> _Operation:
    path = urlsplit(url).path
    candidates = [
        op
        for op in _operations(marketplace)
        if op.method == method.lower() and op.pattern.match(path)
    ]
    if not candidates:
        raise AssertionError(f"{marketplace}: {method.upper()} {path} is not an operation of its spec")
    return max(candidates, key=lambda op: op.literal_len)


# --------------------------------------------------------------------------- checking


def _resolve(spec: _Spec, node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = str(node["$ref"])
        assert ref.startswith("#/"), f"unexpected remote $ref {ref}"
        target: Any = spec.doc
        for token in ref[2:].split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _parameters(spec: _Spec, op: _Operation) -> list[dict[str, Any]]:
    params = [*op.path_item.get("parameters", []), *op.op.get("parameters", [])]
    return [_resolve(spec, p) for p in params]


def _swagger_body_pointer(spec: _Spec, op: _Operation) -> str:
    """JSON pointer of a Swagger 2.0 operation's body schema (op- or path-level, or $ref)."""
    places = (
        (op.op.get("parameters", []), f"{op.pointer}/parameters"),
        (op.path_item.get("parameters", []), f"/paths/{_escape_pointer(op.template)}/parameters"),
    )
    for params, prefix in places:
        for index, param in enumerate(params):
            if _resolve(spec, param).get("in") != "body":
                continue
            if "$ref" in param:
                return str(param["$ref"])[1:] + "/schema"
            return f"{prefix}/{index}/schema"
    raise AssertionError(f"{op.template}: no body parameter")


def _decode(body: Body, content_type: str = "application/json") -> Any:
    if body is None or isinstance(body, (dict, list)):
        return body
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if not text.strip():
        return None
    if "x-www-form-urlencoded" in content_type:
        return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"body is not JSON ({exc}): {text[:200]!r}") from None


def _check_gtin13(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{13}", value):
        return False
    digits = [int(c) for c in value]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12])) % 10) % 10
    return check == digits[12]


_FORMATS = jsonschema.FormatChecker()
_FORMATS.checks("gtin-13")(_check_gtin13)


def _validate(spec: _Spec, pointer: str, instance: Any, what: str) -> None:
    schema = {"$ref": f"{spec.uri}#{pointer}"}
    validator = jsonschema.Draft4Validator(schema, registry=_registry(), format_checker=_FORMATS)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise AssertionError(
            f"{what} does not match {spec.key} {pointer}: at {where}: {first.message}"
            + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")
        )


def _coerce_form(spec: _Spec, schema_pointer: str, form: dict[str, str]) -> dict[str, Any]:
    """Form fields arrive as strings: turn them into the types the schema asks for."""
    schema: Any = spec.doc
    for token in schema_pointer.lstrip("/").split("/"):
        schema = schema[token.replace("~1", "/").replace("~0", "~")]
    props = _resolve(spec, schema).get("properties", {})
    out: dict[str, Any] = {}
    for key, value in form.items():
        kind = _resolve(spec, props.get(key, {})).get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        try:
            if "integer" in kinds:
                out[key] = int(value)
            elif "number" in kinds:
                out[key] = float(value)
            elif "boolean" in kinds:
                out[key] = {"true": True, "false": False}[value.lower()]
            else:
                out[key] = value
        except (ValueError, KeyError):
            out[key] = value
    return out


def _media(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def validate_request(
    marketplace: str,
    method: str,
    url: str,
    body: Body,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Assert that a request is one the marketplace's spec accepts (AssertionError says why).

    Checks: the operation exists, required query (and, when `headers` is given, header)
    parameters are present, the Content-Type is one the operation declares, and the body
    matches the request schema. Usage: ``validate_request("ebay", "POST", url, body, hdrs)``
    """
    if marketplace in NO_SPEC:
        return
    if marketplace == "shopify":
        if urlsplit(url).path.endswith("/graphql.json"):
            payload = _decode(body)
            assert isinstance(payload, dict) and "query" in payload, "GraphQL body needs 'query'"
            validate_shopify_graphql(payload["query"], payload.get("variables"))
        return
    op = _find_operation(marketplace, method, url)
    spec = _load_spec(op.spec_key)
    lower_headers = {k.lower(): v for k, v in (headers or {}).items()}
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    body_param: dict[str, Any] | None = None
    for param in _parameters(spec, op):
        where, name = param.get("in"), str(param.get("name"))
        if where == "body":
            body_param = param
        elif where == "query" and param.get("required") and name not in query:
            raise AssertionError(f"{marketplace} {op.template}: required query parameter {name!r} missing")
        elif (
            where == "header"
            and headers is not None
            and param.get("required")
            and name.lower() not in lower_headers
        ):
            raise AssertionError(f"{marketplace} {op.template}: required header {name!r} missing")

    content_type = _media(lower_headers.get("content-type"))
    if spec.swagger2:
        if body_param is None:
            return
        consumes = [_media(c) for c in op.op.get("consumes", spec.doc.get("consumes", ["application/json"]))]
        if headers is not None and content_type not in consumes:
            raise AssertionError(f"{marketplace}: Content-Type {content_type!r} not in {consumes}")
        instance = _decode(body)
        if instance is None and body_param.get("required"):
            raise AssertionError(f"{marketplace} {op.template}: request body required")
        pointer = _swagger_body_pointer(spec, op)
        _validate(spec, pointer, instance, f"{marketplace} {method.upper()} {op.template} body")
        return

    request_body = op.op.get("requestBody")
    if request_body is None:
        return
    request_body = _resolve(spec, request_body)
    content = request_body.get("content", {})
    if headers is not None:
        if content_type not in content:
            raise AssertionError(
                f"{marketplace} {op.template}: Content-Type {content_type!r} not in {list(content)}"
            )
        media = content_type
    else:
        media = next(iter(content))
    instance = _decode(body, media)
    if instance is None:
        if request_body.get("required"):
            raise AssertionError(f"{marketplace} {op.template}: request body required")
        return
    pointer = f"{op.pointer}/requestBody/content/{_escape_pointer(media)}/schema"
    if "$ref" in op.op["requestBody"]:
        pointer = str(op.op["requestBody"]["$ref"])[1:] + f"/content/{_escape_pointer(media)}/schema"
    if "x-www-form-urlencoded" in media and isinstance(instance, dict):
        instance = _coerce_form(spec, pointer, instance)
    _validate(spec, pointer, instance, f"{marketplace} {method.upper()} {op.template} body")


def validate_response(
    marketplace: str, method: str, url: str, status: int, body: Body
) -> None:
    """Assert that a reply matches what the spec documents for that operation and status.

    A status the spec does not document passes (nothing to check against).
    Usage: ``validate_response("bol", "PUT", url, 202, reply.content)``
    """
    if marketplace in NO_SPEC or marketplace == "shopify":
        return
    op = _find_operation(marketplace, method, url)
    spec = _load_spec(op.spec_key)
    responses = op.op.get("responses", {})
    key: str | None = None
    for candidate in (str(status), f"{str(status)[0]}XX", "default"):
        if candidate in responses:
            key = candidate
            break
    if key is None:
        return
    response = _resolve(spec, responses[key])
    base = f"{op.pointer}/responses/{_escape_pointer(key)}"
    if "$ref" in responses[key]:
        base = str(responses[key]["$ref"])[1:]
    if spec.swagger2:
        if "schema" not in response:
            return
        pointer = f"{base}/schema"
        media = "application/json"
    else:
        content = response.get("content") or {}
        media = next((m for m in content if "schema" in content[m]), "")
        if not media:
            return
        pointer = f"{base}/content/{_escape_pointer(media)}/schema"
    instance = _decode(body, media)
    if instance is None:
        raise AssertionError(f"{marketplace} {op.template} {status}: empty body, spec has a schema")
    _validate(spec, pointer, instance, f"{marketplace} {method.upper()} {op.template} {status} reply")


# --------------------------------------------------------------------------- Shopify


@functools.cache
def _shopify_schema() -> Any:
    import graphql

    with gzip.open(specs_dir() / SHOPIFY_SCHEMA, "rt", encoding="utf-8") as handle:
        schema = graphql.build_client_schema(json.load(handle)["data"])
    # Shopify's own schema breaks a few interface-deprecation rules graphql-core enforces
    # before validating any document; those rules say nothing about our queries.
    schema._validation_errors = []
    return schema


def validate_shopify_graphql(query: str, variables: dict[str, Any] | None) -> None:
    """Assert a GraphQL document (and its variables) is valid for Admin API 2025-01.

    Usage: ``validate_shopify_graphql(payload["query"], payload.get("variables"))``
    """
    import graphql
    from graphql.execution.values import get_variable_values

    schema = _shopify_schema()
    try:
        document = graphql.parse(query)
    except graphql.GraphQLError as exc:
        raise AssertionError(f"shopify: GraphQL syntax error: {exc.message}") from None
    errors = graphql.validate(schema, document)
    if errors:
        raise AssertionError("shopify: " + "; ".join(e.message for e in errors[:3]))
    for definition in document.definitions:
        if isinstance(definition, graphql.OperationDefinitionNode):
            coerced = get_variable_values(
                schema, definition.variable_definitions or (), copy.deepcopy(variables or {})
            )
            if isinstance(coerced, list):
                raise AssertionError("shopify variables: " + "; ".join(e.message for e in coerced[:3]))


# --------------------------------------------------------------------------- Amazon feeds


@functools.cache
def _feed_validators() -> tuple[jsonschema.Draft7Validator, jsonschema.Draft7Validator]:
    folder = specs_dir() / "amazon"
    feed = json.loads((folder / "listings-feed-schema-v2.json").read_text(encoding="utf-8"))
    message = json.loads((folder / "listings-feed-message-schema-v2.json").read_text(encoding="utf-8"))
    registry: Registry = Registry().with_resource("urn:feed", DRAFT7.create_resource(feed))  # type: ignore[type-arg]
    return (
        jsonschema.Draft7Validator(feed, registry=registry),
        jsonschema.Draft7Validator(message, registry=registry),
    )


def validate_amazon_feed(document: dict[str, Any]) -> None:
    """Assert a JSON_LISTINGS_FEED document matches listings-feed-schema-v2 (and each message
    the message schema). Usage: ``validate_amazon_feed({"header": {...}, "messages": [...]})``
    """
    feed_validator, message_validator = _feed_validators()
    error = jsonschema.exceptions.best_match(feed_validator.iter_errors(document))
    if error is not None:
        raise AssertionError(f"amazon feed: at {list(error.absolute_path)}: {error.message}")
    for index, message in enumerate(document.get("messages", [])):
        error = jsonschema.exceptions.best_match(message_validator.iter_errors(message))
        if error is not None:
            raise AssertionError(f"amazon feed message {index}: {error.message}")
