"""Shared pytest configuration.

Fixture modules live in ``tests/fixtures/`` (one per thing they start or build) and are
loaded here for every test package.
"""

pytest_plugins = [
    "tests.fixtures.builders",
    "tests.fixtures.tasks",
    "tests.fixtures.sandbox",
    "tests.fixtures.browser",
    "tests.fixtures.callbacks",
]
