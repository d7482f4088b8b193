"""glibc tuning at import: done by default on Linux, never over the user's own choice."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tinygraph import _malloc


def test_opting_out_keeps_glibc_defaults():
    assert _malloc.tune({"TINYGRAPH_MALLOC_TUNING": "0"}) is False


@pytest.mark.parametrize("variable", ["MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_"])
def test_the_users_own_glibc_settings_win(variable):
    assert _malloc.tune({variable: "131072"}) is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")
def test_importing_tinygraph_tunes_glibc_on_linux():
    def tuned(env: dict[str, str]) -> str:
        code = "import tinygraph._malloc as m; print(m.TUNED)"
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True
        ).stdout.strip()

    base = {
        k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "TINYGRAPH_MALLOC_TUNING"
    }
    assert tuned(base) == "True"
    assert tuned({**base, "TINYGRAPH_MALLOC_TUNING": "0"}) == "False"
