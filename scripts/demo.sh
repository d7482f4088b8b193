#!/usr/bin/env bash
# Run the main demo: installs graphviz and the demo dependencies first.
# Extra arguments go to the demo (try --help).
TINYGRAPH_EXTRAS="demos"
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
python demos/train_cnn.py "$@"
