"""The package's metadata points at the documentation, and the pages it names exist.

``setup.cfg``'s ``project_urls`` are written into the built metadata by
setuptools itself (``egg_info``, the step ``pip install`` and ``python -m build``
run); the changelog URL must name a page the documentation builds.
"""

from __future__ import annotations

import subprocess
import sys
from email.parser import Parser
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DOCS_HOME = "https://django-sinch-whatsapp.readthedocs.io/"
SOURCE = "https://github.com/django-sinch-whatsapp/django-sinch-whatsapp"


def _built_metadata(tmp_path: Path):
    subprocess.run(
        [sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "egg_info", "--egg-base", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (pkg_info,) = tmp_path.glob("*.egg-info/PKG-INFO")
    return Parser().parsestr(pkg_info.read_text(encoding="utf-8"))


def test_the_metadata_names_documentation_changelog_source_and_issues(tmp_path):
    metadata = _built_metadata(tmp_path)
    urls = dict(entry.split(", ", 1) for entry in metadata.get_all("Project-URL"))
    assert set(urls) == {"Documentation", "Changelog", "Source", "Issues"}
    assert urls["Documentation"] == DOCS_HOME
    assert urls["Source"] == SOURCE
    assert urls["Issues"] == f"{SOURCE}/issues"
    for url in urls.values():
        assert urlsplit(url).scheme == "https", url
    # The changelog URL is a page of the documentation: docs/<page>.rst, which includes CHANGELOG.rst.
    assert urls["Changelog"].startswith(f"{DOCS_HOME}en/latest/")
    page = urls["Changelog"].removeprefix(f"{DOCS_HOME}en/latest/").removesuffix(".html")
    source = ROOT / "docs" / f"{page}.rst"
    assert source.is_file(), source
    assert ".. include:: ../CHANGELOG.rst" in source.read_text()
    assert page in (ROOT / "docs" / "index.rst").read_text()


def test_read_the_docs_builds_the_same_site_as_nox():
    config = (ROOT / ".readthedocs.yaml").read_text()
    assert "configuration: docs/conf.py" in config
    assert "fail_on_warning: true" in config
    assert "- docs" in config  # the "docs" extra of setup.cfg
    assert "\ndocs =\n" in (ROOT / "setup.cfg").read_text()
