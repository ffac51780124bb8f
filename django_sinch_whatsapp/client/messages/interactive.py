"""Validation of the inner ``message`` of interactive messages: reply buttons and lists."""

from __future__ import annotations

from typing import Any

from .checks import Message, _array, _check_size, _choice, _fail, _kind, _media_fields, _object, _string
from .limits import _LIMIT, Limit


def _text_object(data: Any, path: str, limit: Limit) -> Message:
    obj = _object(data, path, "interactive texts", ("text",))
    _string(obj["text"], f"{path}.text", limit)
    return obj


# whatsapp-message.md, Button message header: text, document (filename), video, image; list header: text only
_HEADERS = {
    "text": ("text",),
    "document": ("url", "filename", "provider"),
    "video": ("url", "provider"),
    "image": ("url", "provider"),
}


def _header(data: Any, path: str, kinds: tuple[str, ...]) -> Message:
    kind = _kind(data, path, "headers", kinds)
    required = ("type", "text") if kind == "text" else ("type", "url")
    header = _object(data, path, f"{kind} headers", required, _HEADERS[kind][1:])
    if kind == "text":
        _string(header["text"], f"{path}.text", _LIMIT["interactive.header"])
    return _media_fields(header, path)


def _interactive_frame(data: Any, path: str, kind: str, header_kinds: tuple[str, ...]) -> Message:
    """Members shared by button and list messages: header, body, footer; the action is checked by the caller."""
    obj = _object(data, path, f"interactive {kind} messages", ("type", "body", "action"), ("header", "footer"))
    if "header" in obj:
        obj["header"] = _header(obj["header"], f"{path}.header", header_kinds)
    obj["body"] = _text_object(obj["body"], f"{path}.body", _LIMIT["interactive.body"])
    if "footer" in obj:
        obj["footer"] = _text_object(obj["footer"], f"{path}.footer", _LIMIT["interactive.footer"])
    return obj


def _button_message(data: Any, path: str) -> Message:
    obj = _interactive_frame(data, path, "button", tuple(_HEADERS))
    action = _object(obj["action"], f"{path}.action", "button actions", ("buttons",))
    buttons: list[Message] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(_array(action["buttons"], f"{path}.action.buttons", _LIMIT["button.buttons"])):
        where = f"{path}.action.buttons[{i}]"
        button = _object(item, where, "reply buttons", ("type", "id", "title"))
        _choice(button["type"], f"{where}.type", ("reply",))
        button_id = _string(button["id"], f"{where}.id", _LIMIT["button.id"])
        _string(button["title"], f"{where}.title", _LIMIT["button.title"])
        # Ids tell which button was pressed (whatsapp-callback.md, interactive button reply): keep them apart.
        if button_id in seen:
            _fail(f"{where}.id", f"repeats the id of buttons[{seen[button_id]}]; button ids must be unique")
        seen[button_id] = i
        buttons.append(button)
    obj["action"] = {**action, "buttons": buttons}
    return obj


def _list_message(data: Any, path: str) -> Message:
    obj = _interactive_frame(data, path, "list", ("text",))
    where = f"{path}.action"
    action = _object(obj["action"], where, "list actions", ("button", "sections"))
    _string(action["button"], f"{where}.button", _LIMIT["list.button"])
    sections: list[Message] = []
    seen_ids: dict[str, str] = {}
    for s, item in enumerate(_array(action["sections"], f"{where}.sections", _LIMIT["list.sections"])):
        section = _object(item, f"{where}.sections[{s}]", "list sections", ("title", "rows"))
        _string(section["title"], f"{where}.sections[{s}].title", _LIMIT["list.section.title"])
        rows = _array(section["rows"], f"{where}.sections[{s}].rows", _LIMIT["list.section.rows"])
        rows = [_list_row(row, f"sections[{s}].rows[{r}]", where, seen_ids) for r, row in enumerate(rows)]
        sections.append({**section, "rows": rows})
    # whatsapp-message.md: "The total number of rows in all sections in a list message can be at most 10."
    _check_size(len(seen_ids), f"{where}.sections", _LIMIT["list.rows_total"], "has, in all sections,")
    obj["action"] = {**action, "sections": sections}
    return obj


def _list_row(data: Any, relative: str, action_path: str, seen_ids: dict[str, str]) -> Message:
    """One row; ``seen_ids`` maps each id seen so far in the message to where it was."""
    at = f"{action_path}.{relative}"
    row = _object(data, at, "list rows", ("id", "title"), ("description",))
    row_id = _string(row["id"], f"{at}.id", _LIMIT["list.row.id"])
    _string(row["title"], f"{at}.title", _LIMIT["list.row.title"])
    if "description" in row:
        _string(row["description"], f"{at}.description", _LIMIT["list.row.description"])
    # whatsapp-message.md: "Each ID must be unique in the message."
    if row_id in seen_ids:
        _fail(f"{at}.id", f"repeats the id of {seen_ids[row_id]}; row ids must be unique in the message")
    seen_ids[row_id] = relative
    return row
