"""Fixture plugins shared by every test folder."""

pytest_plugins = [
    "tests.fixtures.nats",
    "tests.fixtures.db",
    "tests.fixtures.platform",
]
