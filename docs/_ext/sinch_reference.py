"""Reference pages generated from the code, so they cannot drift from it.

Each ``collect_*`` function reads one source of truth (``conf.DEFAULTS`` and
its comments, the ids in ``checks.py``, ``signals.py``, the management
commands' own argparse, the state table in ``models/messages.py``); the
directives render them, and ``tests/test_docs_reference.py`` compares them
with what the code really has.
"""

from __future__ import annotations

import ast
import importlib
import io
import json
import pkgutil
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = "django_sinch_whatsapp"


def package_root() -> Path:
    return Path(importlib.import_module(PACKAGE).__file__).parent  # type: ignore[arg-type]


# settings -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SettingDoc:
    name: str
    default: str
    description: str


def collect_settings() -> list[SettingDoc]:
    """Every key of ``conf.DEFAULTS`` with its default and the comment written above it."""
    from django_sinch_whatsapp import conf

    source = (package_root() / "conf.py").read_text()
    comments = _comments_above_keys(source, "DEFAULTS")
    docs = []
    for name, default in conf.DEFAULTS.items():
        docs.append(SettingDoc(name=name, default=_show_default(name, default), description=comments.get(name, "")))
    return docs


def _show_default(name: str, value: Any) -> str:
    if name == "TENANT_MODEL" and value is None:
        return "AUTH_USER_MODEL"
    return repr(value)


def _comments_above_keys(source: str, dict_name: str) -> dict[str, str]:
    """``{"KEY": "comment text"}`` for the ``#`` lines directly above each key of a dict literal."""
    tree = ast.parse(source)
    start = end = 0
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        elif isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        if dict_name in targets:
            start, end = node.lineno, node.end_lineno or node.lineno
    found: dict[str, str] = {}
    pending: list[str] = []
    group = ""  # a comment above consecutive keys (no blank line between) covers them all
    depth = 0
    last_line = start
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        line = token.start[0]
        if not start <= line <= end:
            continue
        if token.type == tokenize.NL and token.line.strip() == "" and depth == 1:
            group = ""
        if token.type == tokenize.OP and token.string in "{[(":
            depth += 1
        elif token.type == tokenize.OP and token.string in "}])":
            depth -= 1
        elif token.type == tokenize.COMMENT and depth == 1:
            pending.append(token.string.lstrip("#").strip())
        elif token.type == tokenize.STRING and depth == 1 and line != last_line:
            key = ast.literal_eval(token.string)
            if pending:
                group = " ".join(pending).strip()
            if isinstance(key, str) and key not in found:
                found[key] = group
            pending = []
            last_line = line
    return found


# system checks ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckDoc:
    id: str
    level: str
    message: str
    hint: str


def collect_checks() -> list[CheckDoc]:
    """Every ``Error``/``Warning`` in ``checks.py`` with its stable id (one entry per id)."""
    tree = ast.parse((package_root() / "checks.py").read_text())
    seen: dict[str, CheckDoc] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id not in ("Error", "Warning", "Critical", "Info"):
            continue
        keywords = {kw.arg: kw.value for kw in node.keywords}
        if "id" not in keywords or not isinstance(keywords["id"], ast.Constant):
            continue
        check_id = str(keywords["id"].value)
        message = _text_of(node.args[0]) if node.args else ""
        hint = _text_of(keywords["hint"]) if "hint" in keywords else ""
        if check_id not in seen:
            seen[check_id] = CheckDoc(check_id, node.func.id, message, hint)
    return sorted(seen.values(), key=lambda doc: doc.id)


def _text_of(node: ast.AST) -> str:
    """A string literal or f-string as a person reads it, with ``{...}`` for the parts filled in."""
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(str(part.value) if isinstance(part, ast.Constant) else "…" for part in node.values)
    return ""


# signals -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignalDoc:
    name: str
    description: str


def collect_signals() -> list[SignalDoc]:
    """Each ``Signal()`` of ``signals.py`` with its ``#:`` comment (which lists the kwargs)."""
    from django.dispatch import Signal

    from django_sinch_whatsapp import signals

    source = (package_root() / "signals.py").read_text().splitlines()
    tree = ast.parse("\n".join(source))
    docs = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if not isinstance(getattr(signals, name, None), Signal):
                continue
            lines = []
            index = node.lineno - 2
            while index >= 0 and source[index].startswith("#:"):
                lines.insert(0, source[index][2:].strip())
                index -= 1
            docs.append(SignalDoc(name, " ".join(lines)))
    return docs


# management commands -----------------------------------------------------------------------------
@dataclass(frozen=True)
class OptionDoc:
    flags: str
    help: str
    default: str


@dataclass(frozen=True)
class CommandDoc:
    name: str
    help: str
    options: list[OptionDoc]


#: Options every Django command has; documented by Django, not here.
DJANGO_BASE_OPTIONS = {
    "help",
    "version",
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "skip_checks",
}


def collect_commands() -> list[CommandDoc]:
    """Our management commands with their options, from the commands' own argparse parsers."""
    commands_package = importlib.import_module(f"{PACKAGE}.management.commands")
    docs = []
    for module_info in sorted(pkgutil.iter_modules(commands_package.__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{commands_package.__name__}.{module_info.name}")
        command = module.Command()
        parser = command.create_parser("manage.py", module_info.name)
        options = []
        for action in parser._actions:
            if action.dest in DJANGO_BASE_OPTIONS:
                continue
            flags = ", ".join(action.option_strings) or action.dest
            default = "" if action.default in (None, False, "==SUPPRESS==") else repr(action.default)
            options.append(OptionDoc(flags=flags, help=action.help or "", default=default))
        docs.append(CommandDoc(name=module_info.name, help=str(command.help or ""), options=options))
    return docs


# message states -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class StateDoc:
    value: str
    label: str
    rank: int
    final: bool
    locked: bool


def collect_states() -> list[StateDoc]:
    from django_sinch_whatsapp.models.messages import FINAL_STATES, LOCKED_STATES, STATE_RANK, MessageState

    return [
        StateDoc(
            value=str(state.value),
            label=str(state.label),
            rank=STATE_RANK[state],
            final=state in FINAL_STATES,
            locked=state in LOCKED_STATES,
        )
        for state in sorted(MessageState, key=lambda s: (STATE_RANK[s], s.value))
    ]


def state_transitions() -> list[tuple[str, str]]:
    """Every move the forward-only rule allows: to a state of higher rank, never out of a locked one."""
    states = collect_states()
    moves = []
    for source in states:
        if source.locked:
            continue
        for target in states:
            if target.rank > source.rank:
                moves.append((source.value, target.value))
    return moves


def state_graph_dot() -> str:
    """The state machine as Graphviz: the forward chain of ranks, and the terminal states.

    Drawing every allowed move would draw a near-complete graph. Solid edges
    join each rank to the next; the terminal states (nothing moves them) are
    reached from any earlier state, drawn once from a pseudo-node. The table
    beside it lists every state's rank.
    """
    states = collect_states()
    chain = [state for state in states if not state.locked]
    terminals = [state for state in states if state.locked]
    by_rank: dict[int, list[StateDoc]] = {}
    for state in chain:
        by_rank.setdefault(state.rank, []).append(state)
    ranks = sorted(by_rank)
    lines = ["digraph states {", "  rankdir=LR;", '  node [shape=box, style=rounded, fontname="sans-serif"];']
    for state in states:
        shape = ", peripheries=2" if state.final else ""
        lines.append(f'  "{state.value}" [label="{state.value}"{shape}];')
    for rank in ranks:
        names = " ".join(f'"{s.value}"' for s in by_rank[rank])
        lines.append(f"  {{ rank=same; {names} }}")
    for index, rank in enumerate(ranks[:-1]):
        for source in by_rank[rank]:
            for target in by_rank[ranks[index + 1]]:
                lines.append(f'  "{source.value}" -> "{target.value}";')
    if terminals:
        lines.append('  "any earlier state" [shape=plaintext, fontcolor=gray30];')
        lines.append("  { rank=same; " + " ".join(f'"{s.value}"' for s in terminals) + " }")
        for target in terminals:
            lines.append(f'  "any earlier state" -> "{target.value}" [style=dashed, color=gray40];')
    lines.append("}")
    return "\n".join(lines)


# errors -------------------------------------------------------------------------------------------
def import_package_modules() -> None:
    """Import every module of the package (not migrations), so subclasses defined anywhere are known."""
    package = importlib.import_module(PACKAGE)
    for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
        if ".migrations" in info.name or info.name.endswith(".__main__"):
            continue
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as err:  # an optional extra (celery) not installed where the docs build
            if (err.name or "").startswith(PACKAGE):
                raise


def collect_errors() -> list[tuple[int, type]]:
    """The error tree under ``SinchWhatsAppError``, depth first: ``(depth, class)``, from every module."""
    from django_sinch_whatsapp import exceptions

    import_package_modules()
    tree: list[tuple[int, type]] = []

    def walk(cls: type, depth: int) -> None:
        tree.append((depth, cls))
        own = [sub for sub in cls.__subclasses__() if sub.__module__.startswith(PACKAGE)]
        for sub in sorted(own, key=lambda c: c.__name__):
            walk(sub, depth + 1)

    walk(exceptions.SinchWhatsAppError, 0)
    return tree


# the DRF API -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OperationDoc:
    method: str
    path: str
    summary: str
    responses: list[str]
    operation_id: str = ""


def api_schema() -> dict[str, Any]:
    """The OpenAPI document drf-spectacular builds from the API's own views and serializers."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator(urlconf=f"{PACKAGE}.api.urls").get_schema(request=None, public=True)


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in sorted(schema["paths"].items()):
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((method.upper(), path, operation))
    return found


def collect_api() -> list[OperationDoc]:
    """Every operation of the OpenAPI schema."""
    operations = []
    for method, path, operation in _operations(api_schema()):
        # A summary where a view gives one, else the first sentence of its docstring, else the operation id.
        summary = operation.get("summary") or _first_sentence(operation.get("description", ""))
        operation_id = operation.get("operationId", "")
        codes = sorted(str(code) for code in operation.get("responses", {}))
        operations.append(OperationDoc(method, path, summary or operation_id, codes, operation_id))
    return operations


def _first_sentence(text: str) -> str:
    paragraph = " ".join((text or "").strip().split("\n\n")[0].split())
    head, dot, _ = paragraph.partition(". ")
    return head + "." if dot else paragraph


def _operation_label(operation_id: str) -> str:
    return f"api-op-{operation_id.replace('_', '-')}"


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _schema_type(spec: dict[str, Any]) -> str:
    """A property's type as a person reads it: ``string (uri)``, ``array of Sticker``, ``StateEnum``."""
    if "$ref" in spec:
        return f":ref:`{_ref_name(spec['$ref'])} <{_schema_label(_ref_name(spec['$ref']))}>`"
    for combinator in ("allOf", "oneOf", "anyOf"):
        if combinator in spec:
            return " or ".join(_schema_type(part) for part in spec[combinator])
    kind = str(spec.get("type", "any"))
    if kind == "array":
        return f"array of {_schema_type(spec.get('items', {}))}"
    if spec.get("format"):
        kind = f"{kind} ({spec['format']})"
    return kind


def _schema_label(name: str) -> str:
    return f"api-schema-{name.lower()}"


def _one_line(text: str) -> str:
    """A description on one line, without drf-spectacular's enum bullet list (the enum's own entry lists them)."""
    text = re.split(r"\n\n\* `", text or "", maxsplit=1)[0]
    return " ".join(text.split())


def _body_schema(operation: dict[str, Any]) -> tuple[str, list[str]]:
    body = operation.get("requestBody")
    if not body:
        return "", []
    content = body.get("content", {})
    media = sorted(content)
    schemas = {_schema_type(spec["schema"]) for spec in content.values() if "schema" in spec}
    return " or ".join(sorted(schemas)), media


def _answer_schema(answer: dict[str, Any]) -> str:
    spec = answer.get("content", {}).get("application/json", {}).get("schema")
    return _schema_type(spec) if spec else "no body"


def _schema_entry(name: str, spec: dict[str, Any]) -> list[str]:
    title = f"``{name}``"
    out = [f".. _{_schema_label(name)}:", "", title, "~" * len(title), ""]
    if spec.get("description") and "enum" not in spec:
        out += [_one_line(spec["description"]), ""]
    if "enum" in spec:
        values = ", ".join(f"``{value}``" for value in spec["enum"] if value not in ("", None))
        out += [f"One of {values}." if values else "Empty.", ""]
        return out
    required = set(spec.get("required", ()))
    properties = spec.get("properties", {})
    if not properties:
        out += [f"Type: {_schema_type(spec)}.", ""]
        return out
    for field_name, field_spec in properties.items():
        notes = []
        if field_name in required:
            notes.append("required")
        if field_spec.get("readOnly"):
            notes.append("read-only")
        if field_spec.get("writeOnly"):
            notes.append("write-only")
        if field_spec.get("nullable"):
            notes.append("may be null")
        if "default" in field_spec and field_spec["default"] not in ("", None):
            notes.append(f"default ``{json.dumps(field_spec['default'])}``")
        if "maxLength" in field_spec:
            notes.append(f"at most {field_spec['maxLength']} characters")
        if "maxItems" in field_spec:
            notes.append(f"{field_spec.get('minItems', 0)} to {field_spec['maxItems']} items")
        head = f"``{field_name}``: {_schema_type(field_spec)}" + (f" ({', '.join(notes)})" if notes else "")
        description = _one_line(field_spec.get("description", ""))
        out += [head, f"    {description}" if description else "    \\", ""]
    return out


def api_operations_rst() -> str:
    """Each operation: what it does (the view's docstring), its parameters, its body and its answers."""
    schema = api_schema()
    out = []
    for method, path, operation in _operations(schema):
        title = f"``{method} {path}``"
        out += [f".. _{_operation_label(operation.get('operationId', ''))}:", "", title, "~" * len(title), ""]
        description = (operation.get("description") or "").strip()
        if description:
            out += [*description.splitlines(), ""]
        parameters = [p for p in operation.get("parameters", []) if p.get("in") != "path"]
        if parameters:
            out += ["Parameters:", ""]
            for parameter in sorted(parameters, key=lambda p: (p.get("in", ""), p.get("name", ""))):
                text = _one_line(parameter.get("description", ""))
                kind = _schema_type(parameter.get("schema", {}))
                out += [f"- ``{parameter['name']}`` ({parameter.get('in')}, {kind}): {text}"]
            out += [""]
        body, media = _body_schema(operation)
        if body:
            out += [f"Body: {body}, as {', '.join(f'``{m}``' for m in media)}.", ""]
        out += ["Answers:", ""]
        for code, answer in sorted(operation.get("responses", {}).items()):
            text = _one_line(answer.get("description", ""))
            out += [f"- **{code}** {_answer_schema(answer)}" + (f": {text}" if text else "")]
        out += [""]
    return "\n".join(out)


def api_schemas_rst() -> str:
    """Every component schema of the OpenAPI document with its fields."""
    out = []
    for name, spec in sorted(api_schema()["components"]["schemas"].items()):
        out += _schema_entry(name, spec)
    return "\n".join(out)


# the Conversation transport's mapping -----------------------------------------------------------------
def docstring_table(module_name: str) -> list[str]:
    """The first reST simple table of a module's docstring (the code's own statement of a mapping)."""
    import inspect

    doc = inspect.getdoc(importlib.import_module(module_name)) or ""
    lines = doc.splitlines()
    rules = [index for index, line in enumerate(lines) if line.startswith("===") and set(line) <= {"=", " "}]
    if len(rules) < 3:
        raise ValueError(f"{module_name}: no table in the docstring")
    return lines[rules[0] : rules[2] + 1]


def table_rows(table: list[str]) -> list[tuple[str, str]]:
    """``(first column, rest of the line)`` for each line of a simple table's body (continuations included)."""
    border = table[0]
    width = len(border.split(" ")[0])
    return [(line[:width].strip(), line[width:].strip()) for line in table[3:-1]]


CONVERSATION_MESSAGES = f"{PACKAGE}.transports.conversation.wire"
CONVERSATION_STATUSES = f"{PACKAGE}.transports.conversation.parsing"


def conversation_messages_rst() -> str:
    return "\n".join(docstring_table(CONVERSATION_MESSAGES)) + "\n"


def conversation_statuses_rst() -> str:
    return "\n".join(docstring_table(CONVERSATION_STATUSES)) + "\n"


# reST rendering ---------------------------------------------------------------------------------
def _escape(text: str) -> str:
    return re.sub(r"([*`|_\\])", r"\\\1", text)


def settings_rst() -> str:
    out = []
    for doc in collect_settings():
        out += [f"``{doc.name}``", f"    Default: ``{doc.default}``", ""]
        out += [f"    {_escape(doc.description) or 'Undocumented.'}", ""]
    return "\n".join(out)


def checks_rst() -> str:
    out = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 18 8 74",
        "",
        "   * - Id",
        "     - Level",
        "     - Message",
    ]
    for doc in collect_checks():
        text = _escape(doc.message) + (f" *Hint:* {_escape(doc.hint)}" if doc.hint else "")
        out += [f"   * - ``{doc.id}``", f"     - {doc.level}", f"     - {text}"]
    return "\n".join(out) + "\n"


def signals_rst() -> str:
    out = []
    for doc in collect_signals():
        out += [f"``django_sinch_whatsapp.signals.{doc.name}``", f"    {_escape(doc.description)}", ""]
    return "\n".join(out)


def commands_rst() -> str:
    out = []
    for doc in collect_commands():
        title = f"``{doc.name}``"
        out += [title, "-" * len(title), "", _escape(doc.help), ""]
        if not doc.options:
            out += ["No options of its own.", ""]
            continue
        for option in doc.options:
            default = f" Default: ``{option.default}``." if option.default else ""
            out += [f"``{option.flags}``", f"    {_escape(option.help)}{default}", ""]
    return "\n".join(out)


def states_rst() -> str:
    out = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 14 26 6 6 10 38",
        "",
        "   * - State",
        "     - Meaning",
        "     - Rank",
        "     - Final",
        "     - Nothing moves it",
        "     - May move to",
    ]
    moves: dict[str, list[str]] = {}
    for source, target in state_transitions():
        moves.setdefault(source, []).append(target)
    for state in collect_states():
        targets = ", ".join(f"``{target}``" for target in moves.get(state.value, [])) or "nothing"
        out += [
            f"   * - ``{state.value}``",
            f"     - {_escape(state.label)}",
            f"     - {state.rank}",
            f"     - {'yes' if state.final else ''}",
            f"     - {'yes' if state.locked else ''}",
            f"     - {targets}",
        ]
    out += ["", "Double borders: final states (reconciliation stops asking about them).", "", ".. graphviz::", ""]
    out += ["   " + line for line in state_graph_dot().splitlines()]
    return "\n".join(out) + "\n"


def errors_rst() -> str:
    out = []
    for depth, cls in collect_errors():
        first_line = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        out.append(f"{'  ' * depth}- :class:`{cls.__module__}.{cls.__name__}`: {_escape(first_line)}")
        out.append("")
    return "\n".join(out)


def api_rst() -> str:
    out = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 8 37 40 15",
        "",
        "   * - Method",
        "     - Path (under the API's mount point)",
        "     - What it does",
        "     - Answers",
    ]
    for op in collect_api():
        out += [
            f"   * - {op.method}",
            f"     - :ref:`{op.path} <{_operation_label(op.operation_id)}>`",
            f"     - {op.summary}",
            f"     - {', '.join(op.responses)}",
        ]
    return "\n".join(out) + "\n"


RENDERERS = {
    "errors": errors_rst,
    "api": api_rst,
    "api-operations": api_operations_rst,
    "api-schemas": api_schemas_rst,
    "conversation-messages": conversation_messages_rst,
    "conversation-statuses": conversation_statuses_rst,
    "settings": settings_rst,
    "checks": checks_rst,
    "signals": signals_rst,
    "commands": commands_rst,
    "states": states_rst,
}


# autodoc of Django models: a field's own words, not Django's descriptor docstrings -------------------
def _model_field(dotted: str) -> Any:
    """The Django field behind ``package.Model.attribute``, or None."""
    from django.core.exceptions import FieldDoesNotExist
    from django.db import models

    owner_path, _, attribute = dotted.rpartition(".")
    module_path, _, class_name = owner_path.rpartition(".")
    try:
        owner = getattr(importlib.import_module(module_path), class_name)
    except (ImportError, AttributeError, ValueError):
        return None
    if not (isinstance(owner, type) and issubclass(owner, models.Model)):
        return None
    try:
        return owner._meta.get_field(attribute)
    except FieldDoesNotExist:
        return None


def describe_model_field(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """``autodoc-process-docstring``: a model field reads as its verbose name, type and help text."""
    if what != "attribute":
        return
    field = _model_field(name)
    if field is None:
        return
    kind = type(field).__name__
    if field.is_relation and field.related_model is not None:
        kind = f"{kind} to {field.related_model.__name__}"
    text = f"*{field.verbose_name}* ({kind})."
    if field.help_text:
        text += f" {_escape(str(field.help_text))}"
    lines[:] = [text, ""]


def skip_model_plumbing(app: Any, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
    """``autodoc-skip-member``: leave out what Django adds to every model (managers, reverse accessors...)."""
    import functools

    from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
    from django.db.models.fields.related_descriptors import (
        ManyToManyDescriptor,
        ReverseManyToOneDescriptor,
        ReverseOneToOneDescriptor,
    )
    from django.db.models.manager import BaseManager, ManagerDescriptor
    from django.db.models.query_utils import DeferredAttribute

    if isinstance(obj, type) and issubclass(obj, (ObjectDoesNotExist, MultipleObjectsReturned)):
        return True
    if isinstance(obj, (BaseManager, ManagerDescriptor, functools.partialmethod)):
        return True
    if isinstance(obj, (ReverseManyToOneDescriptor, ReverseOneToOneDescriptor, ManyToManyDescriptor)):
        return True
    if isinstance(obj, DeferredAttribute) and getattr(obj.field, "attname", name) != getattr(obj.field, "name", name):
        return name == obj.field.attname  # ``tenant_id`` beside ``tenant``
    if name.startswith(("get_next_by_", "get_previous_by_")) or (name.startswith("get_") and name.endswith("_display")):
        return True
    return None


def setup(app: Any) -> dict[str, Any]:
    from docutils import nodes
    from docutils.parsers.rst import Directive
    from docutils.statemachine import StringList
    from sphinx.util.nodes import nested_parse_with_titles

    class SinchReference(Directive):
        """``.. sinch-reference:: settings`` (or checks, signals, commands, states)."""

        required_arguments = 1

        def run(self) -> list[Any]:
            kind = self.arguments[0]
            if kind not in RENDERERS:
                raise self.error(f"unknown reference {kind!r}; one of {', '.join(RENDERERS)}")
            container = nodes.section()
            container.document = self.state.document
            lines = StringList(RENDERERS[kind]().splitlines(), source=f"<sinch-reference {kind}>")
            nested_parse_with_titles(self.state, lines, container)
            return list(container.children)

    app.add_directive("sinch-reference", SinchReference)
    app.connect("autodoc-process-docstring", describe_model_field)
    app.connect("autodoc-skip-member", skip_model_plumbing)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
