#!/usr/bin/env bash
# Run the whole test suite: installs graphviz and the test dependencies first.
# Extra arguments go to pytest. Set TINYGRAPH_WITH_TORCH=1 to also install PyTorch 2.13.0
# (CPU) so the tests that compare against it run instead of being skipped.
TINYGRAPH_EXTRAS="test,docs,dev"
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
if [ "${TINYGRAPH_WITH_TORCH:-0}" = "1" ]; then
  python -m pip install -q torch==2.13.0
fi
python -m pytest "$@"
