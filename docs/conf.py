"""Sphinx configuration. Build: ``nox -s docs`` (warnings are errors)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE / "_ext")]
# The reference is generated from the code: importing it needs Django set up.
# The test settings carry a tenant model and every app the package uses.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

import django_sinch_whatsapp  # noqa: E402

project = "django-sinch-whatsapp"
author = "django-sinch-whatsapp contributors"
copyright = "2026, django-sinch-whatsapp contributors"
release = django_sinch_whatsapp.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.graphviz",
    "sphinx.ext.viewcode",
    "sinch_reference",
]
graphviz_output_format = "svg"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"undoc-members": False}
# Our docstrings only: an override without one does not show Django's (or DRF's) text as ours.
autodoc_inherit_docstrings = False
# Django's and DRF's own classes appear in signatures; they are not ours to document.
nitpicky = False
suppress_warnings = ["autodoc.import_object"] if os.environ.get("SINCH_DOCS_LENIENT") else []

html_theme = "furo"
html_title = f"django-sinch-whatsapp {release}"
exclude_patterns = ["_build", "requirements.txt"]
templates_path: list[str] = []
