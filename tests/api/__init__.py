"""HTTP API and web page tests (a package, so its conftest does not shadow tests/conftest.py)."""
