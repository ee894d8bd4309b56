"""How the suite itself runs: each test has a time limit of its own."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.fast


def test_every_test_has_a_time_limit(request):
    """pytest-timeout is loaded and pyproject.toml gives each test a limit: a hang fails that
    test by name instead of stalling the run."""
    assert request.config.pluginmanager.hasplugin("timeout")
    assert 0 < float(request.config.getini("timeout")) <= 600
