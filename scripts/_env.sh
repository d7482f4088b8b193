# Sourced by scripts/demo.sh and scripts/test.sh: installs what tinygraph needs.
#   - the graphviz system package (the `dot` executable) and the DejaVu fonts the renderings
#     name (fonts-dejavu-core), through apt-get when missing;
#   - a virtualenv (the active one if any, else .venv in the repository) with tinygraph
#     installed editable, plus the extras named in $TINYGRAPH_EXTRAS.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

# The renderings name DejaVu Sans, so that graphviz measures text with the font browsers draw.
if ! command -v dot >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -q "DejaVuSans.ttf"; then
  echo "[tinygraph] installing graphviz (the 'dot' executable) and fonts-dejavu-core with apt-get"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq graphviz fonts-dejavu-core >/dev/null
fi

if [ -z "${VIRTUAL_ENV:-}" ]; then
  if [ ! -x .venv/bin/python ]; then
    echo "[tinygraph] creating virtualenv .venv"
    python3 -m venv .venv
  fi
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi

echo "[tinygraph] installing tinygraph[${TINYGRAPH_EXTRAS}] into ${VIRTUAL_ENV}"
python -m pip install -q --upgrade pip >/dev/null
python -m pip install -q -e ".[${TINYGRAPH_EXTRAS}]"
