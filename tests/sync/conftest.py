"""Fixtures of the outbound sync tests: quick retries and a sandbox without a rate limit
unless a test asks for one."""

from __future__ import annotations

import pytest


@pytest.fixture
def fast_sync(settings):
    """Retries a few milliseconds apart, so that storms settle within a test."""
    settings.VIBES_SYNC_BACKOFF_BASE = 0.01
    settings.VIBES_SYNC_BACKOFF_MAX = 0.05
    settings.VIBES_SYNC_MAX_ATTEMPTS = 30
    return settings
