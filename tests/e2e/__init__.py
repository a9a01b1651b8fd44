"""Browser tests of the chat (a package, so its conftest does not shadow tests/conftest.py)."""
