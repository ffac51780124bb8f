"""The Conversation API contract: ``conversation-api.yaml`` with the docs README's newer facts as patches.

The YAML (2021) is lax (no ``additionalProperties: false``, ``Recipient`` requiring both
``contact_id`` and ``identified_by``) and lacks newer members (``correlation_id``,
``list_message``, ``contact_info_message``, ``read_message_event``, ``filename_override``,
``message_properties``). Each difference is one :class:`~tests.contract.spec.Patch`
naming its source, as the legacy contract does; the patched schemas are strict, so an
unknown or misspelt member is a violation. :func:`check_request` validates one request.
"""

from __future__ import annotations

import copy
import functools
import os
import re
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from .spec import Patch

DOCS_ENV = "SINCH_CONVERSATION_DOCS"
URI = "urn:sinch-conversation-contract"
Spec = dict[str, Any]
README = "sinch-conversation-docs/README.md"
SDK = "Sinch API reference as mirrored by sinch/sinch-sdk-python models (2025)"
WHATSAPP = "conversation-whatsapp.md"


def docs_dir() -> Path:
    configured = os.environ.get(DOCS_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "sinch-conversation-docs"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_STR = {"type": "string"}


def _strict(spec: Spec, name: str, required: tuple[str, ...] = (), **extra: Any) -> None:
    schema = spec["components"]["schemas"][name]
    schema["type"] = "object"
    schema["additionalProperties"] = False
    schema.setdefault("properties", {}).update(extra)
    if required:
        schema["required"] = list(required)


def _recipient(spec: Spec) -> None:
    schema = spec["components"]["schemas"]["Recipient"]
    schema.pop("required", None)
    schema["additionalProperties"] = False
    schema["oneOf"] = [{"required": ["contact_id"]}, {"required": ["identified_by"]}]
    _strict(spec, "ChannelIdentities", ("channel_identities",))
    schemas = spec["components"]["schemas"]
    schemas["ChannelIdentities"]["properties"]["channel_identities"]["minItems"] = 1
    _strict(spec, "ChannelRecipientIdentity", ("channel", "identity"))


def _send(spec: Spec) -> None:
    _strict(spec, "SendMessageRequest", correlation_id={"type": "string", "maxLength": 128})


def _app_message(spec: Spec) -> None:
    schema = spec["components"]["schemas"]["AppMessage"]
    schema["properties"]["list_message"] = _ref("ListMessage")
    schema["properties"]["contact_info_message"] = _ref("ContactInfoMessage")
    schema.update(additionalProperties=False, minProperties=1, maxProperties=1)


def _simple(spec: Spec) -> None:
    _strict(spec, "TextMessage", ("text",), text={"type": "string", "minLength": 1})
    _strict(spec, "MediaMessage", ("url",), filename_override=_STR)
    _strict(spec, "LocationMessage", ("coordinates", "title"))
    _strict(spec, "Coordinates", ("latitude", "longitude"))
    _strict(spec, "UrlMessage", ("title", "url"))
    _strict(spec, "CallMessage", ("phone_number", "title"))


def _choices(spec: Spec) -> None:
    schemas = spec["components"]["schemas"]
    kinds = ["call_message", "location_message", "text_message", "url_message"]
    _strict(spec, "Choice")
    schemas["Choice"]["oneOf"] = [{"required": [kind]} for kind in kinds]
    footer = {"type": "object", "additionalProperties": False, "properties": {"whatsapp_footer": _STR}}
    _strict(spec, "ChoiceMessage", ("choices",), message_properties=footer)
    schemas["ChoiceMessage"]["properties"]["choices"].update(minItems=1, maxItems=3)
    header = {"type": "object", "additionalProperties": False, "properties": {"whatsapp_header": _STR}}
    _strict(spec, "CardMessage", ("title",), message_properties=header)
    schemas["CardMessage"]["properties"]["choices"]["maxItems"] = 3


def _list(spec: Spec) -> None:
    choice = {
        "type": "object",
        "additionalProperties": False,
        "required": ["title"],
        "properties": {"title": _STR, "description": _STR, "postback_data": _STR, "media": _ref("MediaMessage")},
    }
    item = {"type": "object", "additionalProperties": False, "required": ["choice"], "properties": {"choice": choice}}
    section = {
        "type": "object",
        "additionalProperties": False,
        "required": ["items"],
        "properties": {"title": _STR, "items": {"type": "array", "minItems": 1, "items": item}},
    }
    properties = {"catalog_id": _STR, "menu": _STR, "whatsapp_header": _STR}
    spec["components"]["schemas"]["ListMessage"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["title", "sections"],
        "properties": {
            "title": _STR,
            "description": _STR,
            "media": _ref("MediaMessage"),
            "sections": {"type": "array", "minItems": 1, "items": section},
            "message_properties": {"type": "object", "additionalProperties": False, "properties": properties},
        },
    }


def _object(required: tuple[str, ...], *names: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(required),
        "properties": dict.fromkeys(names, _STR),
    }


def _contact_info(spec: Spec) -> None:
    def array(item: dict[str, Any], min_items: int = 0) -> dict[str, Any]:
        return {"type": "array", "items": item, "minItems": min_items}

    spec["components"]["schemas"]["ContactInfoMessage"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "phone_numbers"],
        "properties": {
            "name": _object(("full_name",), "full_name", "first_name", "last_name", "middle_name", "prefix", "suffix"),
            "phone_numbers": array(_object(("phone_number",), "phone_number", "type"), 1),
            "addresses": array(_object((), "street", "city", "state", "zip", "country", "country_code", "type")),
            "email_addresses": array(_object(("email_address",), "email_address", "type")),
            "organization": _object((), "company", "department", "title"),
            "urls": array(_object(("url",), "url", "type")),
            "birthday": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        },
    }


def _template(spec: Spec) -> None:
    schemas = spec["components"]["schemas"]
    _strict(spec, "TemplateMessage")
    schemas["TemplateMessage"]["minProperties"] = 1
    _strict(spec, "TemplateReference", ("template_id",))
    whatsapp = copy.deepcopy(schemas["TemplateReference"])
    whatsapp["required"] = ["template_id", "language_code"]
    whatsapp["properties"]["language_code"] = {"type": "string", "pattern": r"^[a-z]{2,3}(_[A-Z]{2,4})?$"}
    key = r"^(header|body|button)\[[0-9]+\]([a-z_]+\[[0-9]+\])?[a-z_]+(\.[a-z_]+)*$"
    whatsapp["properties"]["parameters"] = {
        "type": "object",
        "additionalProperties": _STR,
        "propertyNames": {"pattern": key},
    }
    schemas["WhatsAppTemplateReference"] = whatsapp
    schemas["TemplateMessage"]["properties"]["channel_template"] = {
        "type": "object",
        "additionalProperties": _ref("TemplateReference"),
        "properties": {"WHATSAPP": _ref("WhatsAppTemplateReference")},
    }


def _events(spec: Spec) -> None:
    read = _object(("message_id",), "message_id")
    _strict(spec, "AppEvent", read_message_event=read)
    spec["components"]["schemas"]["AppEvent"].update(minProperties=1, maxProperties=1)
    _strict(spec, "SendEventRequest", ("app_id", "recipient", "event"))
    _strict(spec, "QueryCapability", ("app_id", "recipient"))


PATCHES: tuple[Patch, ...] = (
    Patch(README, "Send", "recipient is contact_id OR identified_by (the YAML requires both)", _recipient),
    Patch(README, "Send", "correlation_id (at most 128 characters); strict members", _send),
    Patch(
        README, "Send", "message is exactly one of the kinds, incl. list_message and contact_info_message", _app_message
    ),
    Patch(SDK, "MediaMessage; TextMessage; LocationMessage", "filename_override; the Required members", _simple),
    Patch(WHATSAPP, "Choice Messages; Card Messages", "one kind per choice; at most 3; message_properties", _choices),
    Patch(SDK, "ListMessage", "list_message: title, sections of choice items, message_properties", _list),
    Patch(SDK, "ContactInfoMessage", "name.full_name and at least one phone number", _contact_info),
    Patch(README, "WhatsApp templates", "WHATSAPP: template_id, language_code (underscore), parameter keys", _template),
    Patch(README, "Mark as read; Capability", "read_message_event; required members", _events),
)

#: (method, path pattern) -> request body schema, None when the request has no body.
OPERATIONS: tuple[tuple[str, re.Pattern[str], str | None], ...] = (
    ("POST", re.compile(r"^/v1/projects/[^/]+/messages:send$"), "SendMessageRequest"),
    ("POST", re.compile(r"^/v1/projects/[^/]+/events:send$"), "SendEventRequest"),
    ("POST", re.compile(r"^/v1/projects/[^/]+/capability:query$"), "QueryCapability"),
    ("POST", re.compile(r"^/v1/projects/[^/]+/optins:register$"), "OptIn"),
    ("POST", re.compile(r"^/v1/projects/[^/]+/optouts:register$"), "OptOut"),
    ("GET", re.compile(r"^/v1/projects/[^/]+/messages/[^/]+$"), None),
)


@functools.cache
def effective_contract() -> Spec:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(docs_dir() / "conversation-api.yaml", encoding="utf-8") as handle:
        spec = yaml.load(handle, Loader=loader)
    for patch in PATCHES:
        patch.apply(spec)
    return spec


@functools.cache
def _validator(schema_name: str) -> Draft7Validator:
    spec = effective_contract()
    registry: Registry = Registry().with_resource(URI, Resource.from_contents(spec, default_specification=DRAFT7))
    return Draft7Validator({"$ref": f"{URI}#/components/schemas/{schema_name}"}, registry=registry)


def check_body(schema_name: str, body: Any) -> list[str]:
    """Violations of ``body`` against one schema, each ``[keyword] where: message``."""
    violations = []
    for error in sorted(_validator(schema_name).iter_errors(body), key=lambda e: list(e.absolute_path)):
        where = "body" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        violations.append(f"[{error.validator}] {where}: {error.message}")
    return violations


def operation_for(method: str, path: str) -> tuple[bool, str | None]:
    """``(known, body schema)`` of the operation ``method path`` is (schema None: a request without body)."""
    for op_method, pattern, schema_name in OPERATIONS:
        if op_method == method.upper() and pattern.match(path):
            return True, schema_name
    return False, None


def check_request(method: str, path: str, body: Any) -> list[str]:
    """Violations of one request; an operation the contract does not list is itself a violation."""
    known, schema_name = operation_for(method, path)
    if not known:
        return [f"[unknown-operation] path: {method} {path} is not in the Conversation contract"]
    if schema_name is None:
        return [] if body in (None, b"", "") else [f"[no-body] body: {method} {path} takes no body"]
    return check_body(schema_name, body)
