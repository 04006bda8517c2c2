"""Shared test helpers.

``require_peer(name)``: a test that needs a system program (dump1090-mutability, tshark,
chromium) calls it first. Without the program the test is *skipped* with a visible reason
(run ``scripts/install-system-deps.sh``), unless ``SKYFUSE_REQUIRE_PEERS=1`` is set — as
``.ci/run`` does — where a missing peer *fails* the test, so CI cannot go green by skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import pytest

__all__ = ["require_peer"]


def require_peer(name: str) -> str:
    """Path of the system program ``name``; skip (or fail under SKYFUSE_REQUIRE_PEERS=1)."""
    path = shutil.which(name)
    if path is not None:
        return path
    why = f"system peer '{name}' is not installed (run scripts/install-system-deps.sh)"
    if os.environ.get("SKYFUSE_REQUIRE_PEERS") == "1":
        pytest.fail(f"{why}; SKYFUSE_REQUIRE_PEERS=1 makes this a failure", pytrace=False)
    pytest.skip(why)


@pytest.fixture(name="require_peer")
def require_peer_fixture() -> Callable[[str], str]:
    """The :func:`require_peer` helper as a fixture: ``require_peer("tshark")``."""
    return require_peer
