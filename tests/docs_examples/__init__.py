"""Code that the documentation shows (``literalinclude``), run as tests so it cannot rot."""
