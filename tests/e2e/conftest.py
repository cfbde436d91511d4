"""Fixtures of the e2e modules: `api`, a client of the module's `platform` (a module defines
`platform`, usually with tests.e2e.runtime.module_platform, or uses the shared one over the
example DAGs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flow.platform import Platform
from tests.e2e.runtime import RuntimeApi


@pytest.fixture(scope="module")
def api(platform: Platform) -> Iterator[RuntimeApi]:
    client = RuntimeApi(platform)
    yield client
    client.close()
