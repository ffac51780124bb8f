"""The documentation cannot drift from the code.

The reference pages are generated from the code (``docs/_ext/sinch_reference.py``);
these tests make sure what they read is complete (every setting described,
every command option helped, every signal documented, every check id tested)
and that no page or README names a setting or a check id the code does not have.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from django.dispatch import Signal

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import sinch_reference  # noqa: E402

from django_sinch_whatsapp import conf, signals  # noqa: E402


def _written_pages() -> dict[Path, str]:
    pages = {path: path.read_text() for path in DOCS.rglob("*.rst")}
    pages[ROOT / "README.rst"] = (ROOT / "README.rst").read_text()
    return pages


def test_every_setting_has_a_description():
    documented = {doc.name: doc.description for doc in sinch_reference.collect_settings()}
    assert set(documented) == set(conf.DEFAULTS)
    missing = sorted(name for name, text in documented.items() if len(text) < 10)
    assert not missing, f"add a comment above these keys in conf.py DEFAULTS: {missing}"


def test_no_page_names_a_setting_that_does_not_exist():
    pattern = re.compile(r'SINCH_WHATSAPP\[\s*"([A-Z0-9_]+)"\s*\]|^\s*"([A-Z][A-Z0-9_]+)"\s*:', re.MULTILINE)
    unknown = set()
    for path, text in _written_pages().items():
        for match in pattern.finditer(text):
            name = match.group(1) or match.group(2)
            if name not in conf.DEFAULTS:
                unknown.add(f"{path.relative_to(ROOT)}: {name}")
    assert not unknown, sorted(unknown)


def test_every_check_id_is_tested_and_no_page_names_an_unknown_one():
    ids = {doc.id for doc in sinch_reference.collect_checks()}
    assert len(ids) >= 13
    tested = set()
    for test_file in (ROOT / "tests").glob("test_*.py"):
        tested |= set(re.findall(r"sinch_whatsapp\.[EWCI]\d{3}", test_file.read_text()))
    assert ids <= tested, f"untested check ids: {sorted(ids - tested)}"
    named = set()
    for text in _written_pages().values():
        named |= set(re.findall(r"sinch_whatsapp\.([EWCI]\d{3})", text))
    unknown = {f"sinch_whatsapp.{short}" for short in named} - ids
    assert not unknown, sorted(unknown)


def test_every_signal_is_documented_with_its_arguments():
    in_code = {name for name, value in vars(signals).items() if isinstance(value, Signal)}
    documented = {doc.name: doc.description for doc in sinch_reference.collect_signals()}
    assert set(documented) == in_code
    assert all("kwargs" in text for text in documented.values()), documented


def test_every_command_option_has_help():
    commands = sinch_reference.collect_commands()
    assert {c.name for c in commands} >= {"sinch_whatsapp_reconcile", "sinch_whatsapp_prune_callbacks"}
    missing = [f"{c.name} {o.flags}" for c in commands for o in c.options if not o.help.strip()]
    assert not missing, missing
    assert all(c.help.strip() for c in commands), [c.name for c in commands if not c.help.strip()]


def test_the_state_graph_covers_every_state():
    from django_sinch_whatsapp.models import MessageState

    dot = sinch_reference.state_graph_dot()
    assert all(f'"{state.value}"' in dot for state in MessageState)


@pytest.mark.parametrize("page", sorted(p.name for p in (DOCS / "reference").glob("*.rst")))
def test_every_reference_page_renders_from_the_code(page):
    text = (DOCS / "reference" / page).read_text()
    for kind in re.findall(r"\.\. sinch-reference:: ([\w-]+)", text):
        assert sinch_reference.RENDERERS[kind]().strip()


def test_every_literalinclude_points_at_a_marker_that_exists():
    """The tutorials show code from tests/docs_examples; a renamed marker would show nothing."""
    include = re.compile(r"\.\. literalinclude:: (\S+)\n((?:\s+:[a-z-]+:.*\n)*)")
    seen = 0
    for path, text in _written_pages().items():
        for match in include.finditer(text):
            target = (path.parent / match.group(1)).resolve()
            assert target.is_file(), f"{path}: {match.group(1)}"
            source = target.read_text()
            for option, value in re.findall(r":(start-after|end-before): (.*)", match.group(2)):
                assert value.strip() in source, f"{path}: {option} {value!r} not in {target.name}"
            seen += 1
    assert seen >= 5


def test_the_state_table_is_the_rule_delivery_reports_follow():
    """Every (current, reported) pair: the page says it moves exactly when report processing moves it."""
    from django_sinch_whatsapp.callbacks.events import StatusUpdate
    from django_sinch_whatsapp.callbacks.statuses import _plan_advances
    from django_sinch_whatsapp.models import MessageState, OutboundMessage

    documented = set(sinch_reference.state_transitions())
    for current in MessageState:
        for reported in MessageState:
            message = OutboundMessage(state=current, sinch_message_id="m-1")
            moves = _plan_advances({"m-1": message}, [StatusUpdate(message_id="m-1", state=reported)])
            assert bool(moves) == ((current.value, reported.value) in documented), (current, reported)
    # Something moves, and something is terminal: the rule is not trivially all or nothing.
    assert ("accepted", "read") in documented and not any(source == "failed" for source, _ in documented)


def test_the_error_tree_has_every_error_class_of_the_package():
    """Read from the source (not from what happens to be imported): every subclass of our errors."""
    import ast

    tree = {cls.__name__ for _, cls in sinch_reference.collect_errors()}
    defined: dict[str, set[str]] = {}
    for path in sinch_reference.package_root().rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                defined.setdefault(node.name, set()).update(bases)
    ours = {"SinchWhatsAppError"}
    while True:
        grown = ours | {name for name, bases in defined.items() if bases & ours}
        if grown == ours:
            break
        ours = grown
    assert ours <= tree, sorted(ours - tree)
    assert len(tree) >= 20


#: Flags of programs that are not ours, as the pages use them.
OTHER_PROGRAMS_FLAGS = {
    "manage.py check": {"--database", "--deploy", "--tag"},
    "celery worker": {"--prefetch-multiplier", "--concurrency", "--pool", "--queues", "--loglevel"},
    "sphinx-build": {"--keep-going"},
}


def _our_flags() -> dict[str, set[str]]:
    """Every command's option flags: ours from argparse, the sandbox CLI's, the example project's demo."""
    from django_sinch_whatsapp.sandbox.__main__ import build_parser

    flags = {
        doc.name: {flag for option in doc.options for flag in option.flags.split(", ") if flag.startswith("-")}
        for doc in sinch_reference.collect_commands()
    }
    flags["python -m django_sinch_whatsapp.sandbox"] = {f for a in build_parser()._actions for f in a.option_strings}
    demo = (ROOT / "example_project/example/management/commands/demo.py").read_text()
    flags["demo"] = set(re.findall(r'add_argument\(\s*"(--[a-z-]+)"', demo))
    return flags


def test_no_page_names_a_command_an_option_or_a_signal_the_code_does_not_have():
    """The other way round from the generated reference: what the pages and README write must exist."""
    flags = _our_flags()
    commands = {doc.name for doc in sinch_reference.collect_commands()}
    known_flags = set().union(*flags.values(), *OTHER_PROGRAMS_FLAGS.values())
    signal_names = {name for name, value in vars(signals).items() if isinstance(value, Signal)}
    problems = []
    for path, text in _written_pages().items():
        where = path.relative_to(ROOT)
        # A command named anywhere (``sinch_whatsapp_x``, manage.py sinch_whatsapp_x, call_command(...)).
        for name in re.findall(r"(?<![\w:.])(sinch_whatsapp_[a-z_]+)", text):
            if name not in commands:
                problems.append(f"{where}: no command {name}")
        # An invocation: every flag on it (and on its continuation lines) is that command's.
        joined = re.sub(r"\\\n\s*", " ", text)
        for command, rest in re.findall(r"manage\.py (sinch_whatsapp_[a-z_]+|demo)([^\n`]*)", joined):
            for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", rest):
                if flag not in flags.get(command, set()):
                    problems.append(f"{where}: {command} has no option {flag}")
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text):
            if flag not in known_flags:
                problems.append(f"{where}: no command has the option {flag}")
        for name in re.findall(r"signals\.([a-z_]+)", text):
            if name not in signal_names:
                problems.append(f"{where}: no signal {name}")
    assert not problems, sorted(set(problems))
    assert {"sinch_whatsapp_campaign", "sinch_whatsapp_reconcile"} <= commands


def test_the_conversation_tables_are_the_code_s_mappings():
    """The tutorial shows the tables of the transport's docstrings; they name every mapping the code has."""
    from django_sinch_whatsapp.transports.conversation import parsing, wire

    messages = sinch_reference.table_rows(sinch_reference.docstring_table(sinch_reference.CONVERSATION_MESSAGES))
    first_column = " ".join(name for name, _ in messages)
    for kind in wire._TRANSLATORS:
        assert kind in first_column, f"the message table of wire.py does not name {kind!r}"
    statuses = sinch_reference.table_rows(sinch_reference.docstring_table(sinch_reference.CONVERSATION_STATUSES))
    by_status = {name: rest.split()[0] for name, rest in statuses if name and rest}
    for status, state in parsing.STATE_BY_STATUS.items():
        assert by_status.get(status) == state, (status, state, by_status.get(status))
    for code, state in parsing.STATE_BY_FAILURE_CODE.items():
        # "FAILED with" / "RECIPIENT_NOT_OPTED_IN": the entry spans two lines of the first column.
        entries = [
            (statuses[i - 1][0] + " " + name, statuses[i - 1][1] + " " + rest)
            for i, (name, rest) in enumerate(statuses)
        ]
        assert any(code in name and state in rest for name, rest in entries), (code, state)


def test_every_python_block_not_run_by_the_suite_is_python_and_names_what_exists():
    """Settings and URL snippets (``.. code-block:: python``) cannot run alone: they must parse, name
    installed apps and importable URL modules, mounted where the suite mounts them."""
    import ast
    import importlib
    import textwrap

    from django.conf import settings as django_settings

    from tests import urls as suite_urls

    mounted = {
        str(pattern.pattern): pattern.urlconf_module.__name__
        for pattern in suite_urls.urlpatterns
        if hasattr(pattern, "urlconf_module") and hasattr(pattern.urlconf_module, "__name__")
    }
    checked = 0
    for path, text in _written_pages().items():
        for block in re.findall(r"\.\. code-block:: python\n\n((?:(?: {3}.*)?\n)+)", text):
            tree = ast.parse(textwrap.dedent(block))  # a SyntaxError names the page in the traceback
            checked += 1
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "include":
                    module = node.args[0].value
                    importlib.import_module(module)
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "path":
                    prefix, target = node.args[0], node.args[1]
                    if isinstance(target, ast.Call) and getattr(target.func, "id", "") == "include":
                        assert mounted.get(prefix.value) == target.args[0].value, (path, prefix.value)
                targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
                if any(getattr(t, "id", "") == "INSTALLED_APPS" for t in targets):
                    apps = [e.value for e in ast.walk(node.value) if isinstance(e, ast.Constant) and e.value != ...]
                    missing = [app for app in apps if app not in django_settings.INSTALLED_APPS]
                    assert not missing, (path, missing)
    assert checked >= 3
