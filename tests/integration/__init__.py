"""Integration tests: the real store (SQLite and PostgreSQL) and the real ``ivr`` command.

A package, so its module names (``integration.test_store``...) never clash with unit tests
of the same file name.
"""
