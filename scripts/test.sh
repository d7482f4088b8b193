#!/usr/bin/env bash
# Run the whole test suite: installs graphviz, chromium and the test dependencies first.
# Extra arguments go to pytest. Set TINYGRAPH_WITH_TORCH=1 to also install PyTorch 2.13.0
# (CPU) so the tests that compare against it run instead of being skipped.
TINYGRAPH_EXTRAS="test,docs,dev,onnx"
TINYGRAPH_WITH_BROWSER=1  # the explorer's tests drive Debian's chromium (apt-get install chromium)
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
if [ "${TINYGRAPH_WITH_TORCH:-0}" = "1" ]; then
  python -m pip install -q torch==2.13.0
fi
python -m pytest "$@"
