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
def collect_errors() -> list[tuple[int, type]]:
    """The error tree under ``SinchWhatsAppError``, depth first: ``(depth, class)``."""
    from django_sinch_whatsapp import exceptions

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


def collect_api() -> list[OperationDoc]:
    """Every operation of the OpenAPI schema that drf-spectacular builds from the API's own views."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf=f"{PACKAGE}.api.urls").get_schema(request=None, public=True)
    operations = []
    for path, item in sorted(schema["paths"].items()):
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            # The operation id says what it does (bots_send_create); a summary wins where a view gives one.
            summary = operation.get("summary") or operation.get("operationId", "")
            operations.append(
                OperationDoc(
                    method.upper(), path, summary, sorted(str(code) for code in operation.get("responses", {}))
                )
            )
    return operations


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
        "   :widths: 20 40 10 10 20",
        "",
        "   * - State",
        "     - Meaning",
        "     - Rank",
        "     - Final",
        "     - Nothing moves it",
    ]
    for state in collect_states():
        out += [
            f"   * - ``{state.value}``",
            f"     - {_escape(state.label)}",
            f"     - {state.rank}",
            f"     - {'yes' if state.final else ''}",
            f"     - {'yes' if state.locked else ''}",
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
            f"     - ``{op.path}``",
            f"     - {_escape(op.summary)}",
            f"     - {', '.join(op.responses)}",
        ]
    return "\n".join(out) + "\n"


RENDERERS = {
    "errors": errors_rst,
    "api": api_rst,
    "settings": settings_rst,
    "checks": checks_rst,
    "signals": signals_rst,
    "commands": commands_rst,
    "states": states_rst,
}


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
    return {"parallel_read_safe": True, "parallel_write_safe": True}
