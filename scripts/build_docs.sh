#!/usr/bin/env bash
# Build the docs site into output/site with `mkdocs build --strict`: any warning (a broken link or
# anchor, a page missing from the nav, a failing demo or generated page) fails the build.
#
# The build runs the lecture demos to make the pictures, so it needs tinygraph with its `docs` and
# `demos` extras and graphviz's `dot`. It uses the active virtualenv, else .venv (made by
# scripts/test.sh or scripts/demo.sh), else python3; TINYGRAPH_SETUP=1 installs everything first
# (as scripts/test.sh does). Extra arguments go to `mkdocs build`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "${TINYGRAPH_SETUP:-0}" = "1" ]; then
  TINYGRAPH_EXTRAS="docs,demos"
  source scripts/_env.sh
fi
if [ -n "${VIRTUAL_ENV:-}" ]; then
  PYTHON=python
elif [ -x .venv/bin/python ]; then
  PYTHON=.venv/bin/python
else
  PYTHON=python3
fi
export MPLBACKEND=Agg
export NO_MKDOCS_2_WARNING=1  # Material's banner about a future MkDocs 2.0, on every build
"$PYTHON" -m mkdocs build --strict --clean --site-dir output/site "$@"
echo "[tinygraph] docs built: output/site/index.html"
