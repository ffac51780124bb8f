"""The floor's URLconf: one minimal JSON view (bench/run.py)."""

from bench.run import urlpatterns  # noqa: F401
