"""pytest plugin: every request the package's Sinch clients send during the run must meet the Sinch contract.

Both transports: requests of ``SinchWhatsAppClient`` are checked against ``whatsapp-api.yaml`` with the
pages' patches (:mod:`tests.contract.spec`), requests of the Conversation API client against
``conversation-api.yaml`` with the docs README's patches (:mod:`tests.contract.conversation`).

Enable it in ``tests/conftest.py`` with ``pytest_plugins = ["tests.contract_plugin"]`` (or ``-p
tests.contract_plugin``). From ``pytest_configure`` on, :class:`tests.contract.recorder.Recorder` sees
every request of a session built by ``client.session.build_session``, whichever thread sends it (the
live server, dispatch threads ...). After each test's teardown the requests recorded since the previous
check are validated against :func:`tests.contract.spec.effective_contract`; a violation is raised as an
error in that test's teardown, so the report names the test, the request and the rule.

A test that breaks the contract on purpose (to see Sinch, or the sandbox, refuse a request) says so with
``@pytest.mark.contract_exempt(reason="...")``: its requests are still recorded and checked, and counted
in the summary, but do not fail the run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.recorder import OUTSIDE_TESTS, RecordedRequest, Recorder
from tests.contract.spec import DOCS_ENV
from tests.contract.validate import Contract

MARKER = "contract_exempt"
_RECORDER = pytest.StashKey[Recorder]()
_FINDINGS = pytest.StashKey[dict[str, Any]]()


class ContractViolation(AssertionError):
    """A request the client sent does not meet the Sinch contract."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(reason): this test sends requests that break the Sinch contract on purpose; "
        "they are checked and reported but do not fail the run",
    )
    recorder = Recorder()
    recorder.install()
    config.stash[_RECORDER] = recorder
    config.stash[_FINDINGS] = {"violations": [], "exempt": [], "notes": Counter(), "checked": 0}


def pytest_unconfigure(config: pytest.Config) -> None:
    recorder = config.stash.get(_RECORDER, None)
    if recorder is not None:
        recorder.uninstall()


@pytest.fixture
def contract_recorder(pytestconfig: pytest.Config) -> Recorder:
    """The session's recorder, for tests of the contract machinery itself."""
    return pytestconfig.stash[_RECORDER]


def _check_pending(config: pytest.Config) -> list[RecordedRequest]:
    """Validate what was recorded since the last check; return the requests that fail (not exempt)."""
    findings = config.stash[_FINDINGS]
    if findings.get("load_error"):
        return []  # reported once, at the end; the records stay pending
    started = time.perf_counter()
    try:
        Contract.default()
    except Exception as err:  # no docs folder, a YAML that does not parse, a patch that no longer applies
        findings["load_error"] = f"the Sinch contract could not be loaded ({err}); set {DOCS_ENV} to the docs folder"
        return []
    failing = []
    for record in config.stash[_RECORDER].take_pending():
        verdict = record.validate()
        findings["checked"] += 1
        findings["notes"].update(verdict.notes)
        if verdict.ok:
            continue
        if record.exempt:
            findings["exempt"].append(record)
        else:
            findings["violations"].append(record)
            failing.append(record)
    findings["seconds"] = findings.get("seconds", 0.0) + time.perf_counter() - started
    return failing


def _report(records: list[RecordedRequest]) -> str:
    lines = []
    for record in records:
        verdict = record.validate()
        lines.append(f"test {record.test}, request #{record.number}: {record.describe()}")
        lines.append(f"  operation: {verdict.operation or '(none)'}")
        lines.extend(f"  {violation}" for violation in verdict.violations)
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    recorder = item.config.stash[_RECORDER]
    marker = item.get_closest_marker(MARKER)
    recorder.context = (item.nodeid, marker is not None)
    return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    try:
        result = yield  # fixtures (function- and, after the last test, session-scoped) are torn down here
    finally:
        item.config.stash[_RECORDER].context = (OUTSIDE_TESTS, False)
    failing = _check_pending(item.config)
    if failing:
        raise ContractViolation(
            f"{len(failing)} request(s) sent by the package's Sinch clients break the Sinch contract "
            f"(mark the test @pytest.mark.{MARKER}(reason=...) only if that is its purpose):\n" + _report(failing)
        )
    return result


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Requests recorded after the last teardown (a straggling thread) are checked here.
    late = _check_pending(session.config)
    if late or session.config.stash[_RECORDER].errors or session.config.stash[_FINDINGS].get("load_error"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    findings = config.stash.get(_FINDINGS, None)
    if findings is None:
        return
    recorder = config.stash[_RECORDER]
    violations, exempt = findings["violations"], findings["exempt"]
    apis = Counter(record.api for record in recorder.records)
    line = (
        f"Sinch contract: {len(recorder.records)} client request(s) recorded, {findings['checked']} checked "
        f"({apis['whatsapp']} against whatsapp-api.yaml + page patches, {apis['conversation']} against "
        "conversation-api.yaml + README patches); "
        f"{len(violations)} violation(s), {len(exempt)} exempt on purpose ({findings.get('seconds', 0.0):.2f} s)"
    )
    terminalreporter.write_sep("-", "sinch contract")
    terminalreporter.write_line(line)
    for note, count in sorted(findings["notes"].items()):
        terminalreporter.write_line(f"  deprecated, {count} request(s): {note}")
    if violations:
        terminalreporter.write_line(_report(violations), red=True)
    if findings.get("load_error"):
        terminalreporter.write_line(f"  {findings['load_error']}", red=True)
    for error in recorder.errors:
        terminalreporter.write_line(f"  recorder error: {error}", red=True)
