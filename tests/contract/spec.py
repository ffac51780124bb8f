"""The effective contract: ``whatsapp-api.yaml`` with the newer pages applied as an explicit patch list.

The YAML is the older description (it still has groups, template ``params`` and ``POST /provision/optout``);
the ``.md`` pages next to it are newer and win. Every difference is one :class:`Patch` in :data:`PATCHES`,
naming the page and section it follows, so the contract the tests enforce can be read (and argued with)
in one place. The result is still an OpenAPI 3.0 document (``tests/test_contract.py`` checks that).

The docs folder is ``$SINCH_WHATSAPP_DOCS`` or, as in DESIGN.md, ``../shared/sinch-whatsapp-docs`` next to
the repository.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import pages
from .pages import REF, Schema

DOCS_ENV = "SINCH_WHATSAPP_DOCS"
BOT = "/whatsapp/v1/{bot-id}"
Spec = dict[str, Any]


def docs_dir() -> Path:
    configured = os.environ.get(DOCS_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "sinch-whatsapp-docs"


def load_yaml(path: Path | None = None) -> Spec:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path or docs_dir() / "whatsapp-api.yaml", encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


@dataclass(frozen=True)
class Patch:
    """One place where a page overrides (or adds to) the YAML; ``section`` lists headings, "; "-separated."""

    page: str
    section: str
    change: str
    apply: Callable[[Spec], None]

    def __str__(self) -> str:
        return f"{self.page} § {self.section}: {self.change}"


# --- building blocks ------------------------------------------------------------------------------------


def _path_parameters(template: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{([^}]+)}", template)
    ]


def _operation(
    source: str,
    summary: str,
    *,
    body: str | None = None,
    body_required: bool = True,
    query: dict[str, Schema] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "x-source": source,
        "responses": {"200": {"description": "See the page named in x-source."}},
    }
    if body:
        content = {"application/json": {"schema": {"$ref": REF + body}}}
        operation["requestBody"] = {"required": body_required, "content": content}
    if query:
        operation["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": schema} for name, schema in query.items()
        ]
    return operation


def _add(spec: Spec, suffix: str, method: str, operation: dict[str, Any]) -> None:
    """Add an operation the YAML lacks (refusing to overwrite one it has: that would be a replace)."""
    template = BOT + suffix
    item = spec["paths"].setdefault(template, {})
    if method in item:
        raise ValueError(f"{method.upper()} {template} is already in the YAML")
    # Path parameters on the operation, as the YAML does it (its path items carry none).
    operation["parameters"] = [*_path_parameters(template), *operation.get("parameters", ())]
    item[method] = operation


def _operation_of(spec: Spec, suffix: str, method: str) -> dict[str, Any]:
    return spec["paths"][BOT + suffix][method]


def _schemas(spec: Spec) -> dict[str, Schema]:
    return spec["components"]["schemas"]


def _deprecate(operation: dict[str, Any], why: str) -> None:
    operation["deprecated"] = True
    operation["x-deprecation"] = why


# --- whatsapp-message.md --------------------------------------------------------------------------------

_MESSAGE = pages.MESSAGE_PAGE


def _send_message(spec: Spec) -> None:
    body = _schemas(spec)["WhatsAppMessage"]
    body["type"] = "object"
    body["properties"]["callback"] = dict(pages.HTTP_URL)
    body["additionalProperties"] = False
    body["x-source"] = f"{_MESSAGE} § Send a WhatsApp message"
    _operation_of(spec, "/messages", "post")["x-source"] = body["x-source"]


def _message_types(spec: Spec) -> None:
    _schemas(spec)["MessageContent"] = pages.by_type(pages.MESSAGE_TYPES, f"{_MESSAGE} § Message object types")


def _install(names: dict[str, Schema]) -> Callable[[Spec], None]:
    def apply(spec: Spec) -> None:
        _schemas(spec).update(names)

    return apply


def _one(name: str) -> Callable[[Spec], None]:
    return _install({name: pages.MESSAGE_SCHEMAS[name]})


def _contacts(spec: Spec) -> None:
    _schemas(spec)["ContactsMessage"] = pages.MESSAGE_SCHEMAS["ContactsMessage"]
    card = _schemas(spec)["ContactCard"]["properties"]
    # whatsapp-callback.md § Contact object: ims "Array[String]" (its sub-table shows objects: left open),
    # contact_image_url "String".
    card["ims"] = {"type": "array"}
    card["contact_image_url"] = {"type": "string"}


# --- the other pages ------------------------------------------------------------------------------------

_OPT = "whatsapp-opt-in-and-outs.md"
_PROVIDER = "whatsapp-media-provider.md"
_BLACKLIST = "whatsapp-blacklist-callback.md"
_STORE = "whatsapp-callback-store.md"
_STICKERS = "whatsapp-stickerpack-management.md"
_STICKER_SECTIONS = (
    "Retrieve stickerpacks",
    "Create stickerpack",
    "Retrieve stickerpack information",
    "Update stickerpack",
    "Delete stickerpack",
    "Retrieve sticker indices",
    "Create sticker",
    "Retrieve sticker information",
    "Update sticker",
    "Delete sticker",
)
_NAMESPACE = {"namespace": {"type": "string", "enum": ["third_party", "whatsapp"]}}


def _opt_in(spec: Spec) -> None:
    source = f"{_OPT} § Opt-In endpoint"
    _schemas(spec)["PageOptIn"] = pages.numbers_body(source)
    post = _operation_of(spec, "/provision/optin", "post")
    post["requestBody"] = _operation(source, "", body="PageOptIn")["requestBody"]
    post["x-source"] = source
    _add(spec, "/provision/optin", "delete", _operation(source, "Remove opted-in numbers", body="PageOptIn"))


def _opt_out(spec: Spec) -> None:
    source = f"{_OPT} § Opt-Out endpoint DEPRECATED"
    operation = _operation_of(spec, "/provision/optout", "post")
    operation["x-source"] = source
    operation["requestBody"] = _operation(source, "", body="PageOptIn")["requestBody"]
    _deprecate(operation, f"POST /provision/optout is deprecated ({source}): use DELETE /provision/optin")


def _capability(spec: Spec) -> None:
    source = "whatsapp-capability.md § Capability endpoint"
    _schemas(spec)["PageCapability"] = pages.numbers_body(source)
    # "JSON object should be sent in Request Body although this is GET request".
    _add(spec, "/capability", "get", _operation(source, "Capability of numbers", body="PageCapability"))
    _add(spec, "/capability", "post", _operation(source, "Capability of numbers", body="PageCapability"))


def _mark_as_read(spec: Spec) -> None:
    source = pages.OTHER_SCHEMAS["PageMarkAsRead"]["x-source"]
    _schemas(spec)["PageMarkAsRead"] = pages.OTHER_SCHEMAS["PageMarkAsRead"]
    _add(spec, "/events", "post", _operation(source, "Mark an inbound message as read", body="PageMarkAsRead"))


def _media_providers(spec: Spec) -> None:
    _schemas(spec)["PageMediaProvider"] = pages.OTHER_SCHEMAS["PageMediaProvider"]
    add = _operation(f"{_PROVIDER} § Adding/Updating a provider", "Add or update", body="PageMediaProvider")
    _add(spec, "/provision/provider", "post", add)
    _add(spec, "/provision/provider", "get", _operation(f"{_PROVIDER} § Retrieving the providers list", "List"))
    delete = _operation(f"{_PROVIDER} § Deleting a provider from the providers list", "Delete")
    # No name pattern on the path: the 2020-03-10 constraints bind names when providers are added; older
    # providers may still carry other names ("It is recommended to update any existing media provider
    # configurations"), and deleting one of them by that name is legitimate.
    _add(spec, "/provision/provider/{provider-name}", "delete", delete)


def _blacklist(spec: Spec) -> None:
    _schemas(spec)["PageBlacklist"] = pages.numbers_body(f"{_BLACKLIST} § Add to blacklist endpoint")
    _add(
        spec,
        "/provision/blacklist",
        "post",
        _operation(f"{_BLACKLIST} § Add to blacklist endpoint", "Add", body="PageBlacklist"),
    )
    remove = _operation(f"{_BLACKLIST} § Remove from blacklist endpoint", "Remove", body="PageBlacklist")
    _add(spec, "/provision/blacklist", "delete", remove)
    # "page: Integer (0 denotes the first page)".
    page = {"page": {"type": "integer", "minimum": 0}}
    _add(spec, "/provision/blacklist", "get", _operation(f"{_BLACKLIST} § Get blacklist endpoint", "List", query=page))


def _callback_store(spec: Spec) -> None:
    statuses = _operation(f"{_STORE} § Get message status updates endpoint", "Stored delivery reports")
    _add(spec, "/callbacks/status/{message-id}", "get", statuses)
    query = pages.OTHER_SCHEMAS["PageInboundQuery"]
    _schemas(spec)["PageInboundQuery"] = query
    # The page gives "JSON object parameters" (a JSON body, like GET /capability) and none is required;
    # the same names are also accepted as query parameters, the usual way to filter a GET.
    inbound = _operation(
        query["x-source"],
        "Stored inbound messages",
        body="PageInboundQuery",
        body_required=False,
        query=query["properties"],
    )
    _add(spec, "/callbacks/notifications", "get", inbound)


def _stickerpacks(spec: Spec) -> None:
    bodies = ("PageStickerpackCreate", "PageStickerpackUpdate", "PageStickerCreate", "PageStickerUpdate")
    _schemas(spec).update({name: pages.OTHER_SCHEMAS[name] for name in bodies})
    section = f"{_STICKERS} § "
    pack = "/stickerpacks/{stickerpack-id}"
    stickers = pack + "/stickers"
    sticker = stickers + "/{sticker-index}"
    for suffix, method, name, body, query in (
        ("/stickerpacks", "get", "Retrieve stickerpacks", None, _NAMESPACE),
        ("/stickerpacks", "post", "Create stickerpack", "PageStickerpackCreate", None),
        (pack, "get", "Retrieve stickerpack information", None, _NAMESPACE),
        (pack, "patch", "Update stickerpack", "PageStickerpackUpdate", None),
        (pack, "delete", "Delete stickerpack", None, None),
        (stickers, "get", "Retrieve sticker indices", None, _NAMESPACE),
        (stickers, "post", "Create sticker", "PageStickerCreate", None),
        (sticker, "get", "Retrieve sticker information", None, _NAMESPACE),
        (sticker, "patch", "Update sticker", "PageStickerUpdate", None),
        (sticker, "delete", "Delete sticker", None, None),
    ):
        _add(spec, suffix, method, _operation(section + name, name, body=body, query=query))


def _groups(spec: Spec) -> None:
    why = "groups are deprecated (release-notes-whatsapp.md 2021-06-08: 'Remove deprecated support for groups')"
    for template, item in spec["paths"].items():
        if template.startswith(BOT + "/groups"):
            for method, operation in item.items():
                if method != "parameters":
                    _deprecate(operation, why)


# --- the patch list -------------------------------------------------------------------------------------

PATCHES: tuple[Patch, ...] = (
    Patch(
        _MESSAGE,
        "Send a WhatsApp message",
        "body gains optional `callback` (URL); no members beyond to/message/callback",
        _send_message,
    ),
    Patch(
        _MESSAGE,
        "Message object types",
        "message.type picks one of template, text, image, video, document, audio, location, contacts, sticker, "
        "interactive (the YAML's voice/group_event are inbound only; sticker/interactive are page-only)",
        _message_types,
    ),
    Patch(
        _MESSAGE,
        "Template message",
        "TemplateMessage rewritten from the table: header_params/body_params, media (required; text/image/video/"
        "document, no caption), buttons (call/url/quick_reply); `params` removed (release notes 2021-05-25); "
        "`ttl` deprecated (2021-06-29)",
        _install(pages.TEMPLATE_SCHEMAS),
    ),
    Patch(
        _MESSAGE, "Text message", "text up to 4096 characters; preview_url boolean; nothing else", _one("TextMessage")
    ),
    Patch(_MESSAGE, "Image message", "http(s) url; caption; optional provider added", _one("ImageMessage")),
    Patch(_MESSAGE, "Video message", "http(s) url; caption and provider added", _one("VideoMessage")),
    Patch(_MESSAGE, "Document message", "http(s) url; filename, caption; provider added", _one("DocumentMessage")),
    Patch(_MESSAGE, "Audio message", "http(s) url; provider added; no caption", _one("AudioMessage")),
    Patch(
        _MESSAGE,
        "Location message",
        "lat [-90, 90], lng [-180, 180], name, address; nothing else",
        _one("LocationMessage"),
    ),
    Patch(
        _MESSAGE,
        "Contacts message",
        "contacts are the YAML's ContactCard, which gains ims and contact_image_url (whatsapp-callback.md § Contact object)",
        _contacts,
    ),
    Patch(
        _MESSAGE,
        "Sticker message",
        "new type: url or id (exactly one), provider only with url",
        _one("PageStickerMessage"),
    ),
    Patch(
        _MESSAGE,
        "Interactive message",
        "new type: button (1-3 reply buttons, header text/document/video/image) and list (1-10 sections, "
        "at most 10 rows in all, unique row ids) with the page's length limits",
        _install(pages.INTERACTIVE_SCHEMAS),
    ),
    Patch(
        _OPT, "Opt-In endpoint", "DELETE /provision/optin added; body {numbers: 1-20} required, nothing else", _opt_in
    ),
    Patch(
        _OPT,
        "Opt-Out endpoint DEPRECATED",
        "POST /provision/optout is deprecated (use DELETE /provision/optin)",
        _opt_out,
    ),
    Patch(
        "whatsapp-capability.md",
        "Capability endpoint",
        "GET and POST /capability added, both with a JSON body",
        _capability,
    ),
    Patch(
        "whatsapp-callback.md",
        "Mark inbound message as read",
        "POST /events added: {type: read, message_id}",
        _mark_as_read,
    ),
    Patch(
        _PROVIDER,
        "Adding/Updating a provider; Deleting a provider from the providers list; Retrieving the providers list",
        "POST/GET /provision/provider, DELETE .../{name} added",
        _media_providers,
    ),
    Patch(
        _BLACKLIST,
        "Add to blacklist endpoint; Remove from blacklist endpoint; Get blacklist endpoint",
        "POST/DELETE/GET /provision/blacklist added; ?page >= 0",
        _blacklist,
    ),
    Patch(
        _STORE,
        "Get message status updates endpoint; Get inbound messages endpoint",
        "GET /callbacks/status/{id}, /callbacks/notifications added",
        _callback_store,
    ),
    Patch(
        _STICKERS,
        "; ".join(_STICKER_SECTIONS),
        "the ten stickerpack and sticker operations added; ?namespace on the GETs",
        _stickerpacks,
    ),
    Patch(
        "release-notes-whatsapp.md",
        "2021-06-08",
        "group operations marked deprecated (still accepted: legacy groups)",
        _groups,
    ),
)


@functools.cache
def effective_contract() -> Spec:
    """The YAML with every patch applied; built once per process (callers must not modify it)."""
    spec = load_yaml()
    for patch in PATCHES:
        patch.apply(spec)
    spec["info"]["x-page-patches"] = [str(patch) for patch in PATCHES]
    return spec
