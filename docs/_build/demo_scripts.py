"""Importing the repository's scripts (demos) as modules, for the docs build.

Demo scripts are not a package, and the lecture demos' names start with a digit, so they are
imported by path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_script(path: Path, name: str) -> ModuleType:
    """Import the script at ``path`` as the module ``name`` (registered in ``sys.modules``, where a
    dataclass defined in it looks its module up)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
