"""Test matrix. ``python3 -m nox`` runs lint and the whole suite on every supported pair.

- tests-3.11: Django 5.2 LTS on Python 3.11, on SQLite and on PostgreSQL.
- tests-3.12: the newest Django on Python 3.12, on SQLite and on PostgreSQL.

PostgreSQL comes from ``TEST_POSTGRES_URL`` (default the local
``postgres://postgres@127.0.0.1:5432/test``); where it cannot be reached the
PostgreSQL run is skipped with a reason, except in CI (``CI=true``) where that fails.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
from urllib.parse import urlsplit

import nox

nox.options.sessions = ["lint", "package", "docs", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")

# pyenv installs interpreters without putting every version on PATH: find them.
for python_bin in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[123].*/bin"))):
    os.environ["PATH"] = os.environ["PATH"] + os.pathsep + python_bin

MATRIX = [("3.11", "django>=5.2,<5.3"), ("3.12", "django>=6.0")]


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=1).close()
    except OSError:
        return False
    return True


def _install_debian_package(session: nox.Session, command: str, package: str) -> None:
    """Debian's ``package`` when ``command`` is missing (root and apt-get); in CI a missing one fails."""
    if shutil.which(command):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        session.run("apt-get", "update", "-qq", external=True)
        session.run(
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            package,
            external=True,
            env={"DEBIAN_FRONTEND": "noninteractive"},
        )
    elif IN_CI:
        session.error(f"{command} is missing and cannot be installed (need root and apt-get {package})")


def _install_chromium(session: nox.Session) -> None:
    _install_debian_package(session, "chromium", "chromium")


LINTED = ["django_sinch_whatsapp", "tests", "example_project", "bench", "docs", "noxfile.py"]


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("-e", ".[test,dev]", "django>=5.2,<5.3")
    paths = [path for path in LINTED if os.path.exists(path)]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)
    session.run("mypy", "django_sinch_whatsapp", env={"PYTHONPATH": "."})
    session.run(
        "django-admin",
        "makemigrations",
        "--check",
        "--dry-run",
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": "."},
    )


PACKAGE_CHECK = """
import importlib.resources as resources
import django_sinch_whatsapp as package
root = resources.files(package)
for name in ("py.typed", "migrations/0001_initial.py", "sandbox/__main__.py", "management/commands/sinch_whatsapp_reconcile.py"):
    assert root.joinpath(name).is_file(), name
assert "site-packages" in str(root), root
print("installed", package.__version__, "from", root)
"""


@nox.session(python="3.11")
def package(session: nox.Session) -> None:
    """``pip install .`` (not editable) into a fresh venv, then import it from outside the checkout."""
    session.install(".")
    session.chdir(session.create_tmp())
    session.run("python", "-c", PACKAGE_CHECK)
    session.run("python", "-m", "django_sinch_whatsapp.sandbox", "--help", silent=True)


@nox.session(python="3.12")
def docs(session: nox.Session) -> None:
    """The documentation site, warnings as errors (the reference pages are generated from the code)."""
    session.install("-e", ".[docs,test]")
    _install_debian_package(session, "dot", "graphviz")
    output = os.path.join(session.create_tmp(), "html")
    session.run("sphinx-build", "-W", "--keep-going", "-q", "-b", "html", "docs", output, env={"PYTHONPATH": "."})
    session.log(f"documentation built in {output}")


@nox.session
@nox.parametrize("python,django", MATRIX, ids=["3.11", "3.12"])
def tests(session: nox.Session, django: str) -> None:
    session.install("-e", ".[test]", django)
    _install_chromium(session)
    tmp = session.create_tmp()
    env = {
        "PYTHONPATH": ".",
        "HYPOTHESIS_STORAGE_DIRECTORY": os.path.join(tmp, "hypothesis"),
        # Both passes write their data here; combined and gated below.
        "COVERAGE_FILE": os.path.join(tmp, ".coverage"),
    }
    for stale in glob.glob(os.path.join(tmp, ".coverage*")):
        os.remove(stale)
    pytest = ["coverage", "run", "-m", "pytest"]
    # SQLite (the tests/settings.py default); the PostgreSQL-only tests run in the next pass.
    session.run(*pytest, "-m", "not postgres_only", *session.posargs, env=env)
    if _reachable(POSTGRES_URL):
        session.run(*pytest, *session.posargs, env={**env, "DATABASE_URL": POSTGRES_URL})
    elif IN_CI:
        session.error(f"PostgreSQL is not reachable at {POSTGRES_URL}; CI must run the suite on it")
    else:
        session.warn(f"PostgreSQL not reachable at {POSTGRES_URL}: skipped the PostgreSQL run (CI runs it)")
    session.run("coverage", "combine", "-q", env=env)
    # Per file, both passes combined; fails under setup.cfg's fail_under.
    session.run("coverage", "report", env=env)
