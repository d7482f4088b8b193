# Sourced by scripts/demo.sh and scripts/test.sh: installs what tinygraph needs.
#   - the graphviz system package (the `dot` executable) and the DejaVu fonts the renderings
#     name (fonts-dejavu-core), through apt-get when missing, and chromium for the browser
#     tests when asked ($TINYGRAPH_WITH_BROWSER=1);
#   - a virtualenv (the active one if any, else .venv in the repository) with tinygraph
#     installed editable, plus the extras named in $TINYGRAPH_EXTRAS.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

# System packages through apt-get, only those missing: graphviz and the DejaVu fonts always (the
# renderings name DejaVu Sans, so that graphviz measures text with the font browsers draw);
# Debian's chromium (the browser the tests drive) when $TINYGRAPH_WITH_BROWSER is 1
# (scripts/test.sh sets it).
APT_PACKAGES=""
if ! command -v dot >/dev/null 2>&1; then APT_PACKAGES=" graphviz"; fi
# (grep without -q: under pipefail, grep -q quitting early would make fc-list fail with SIGPIPE)
if ! fc-list 2>/dev/null | grep "DejaVuSans.ttf" >/dev/null; then
  APT_PACKAGES="$APT_PACKAGES fonts-dejavu-core"
fi
if [ "${TINYGRAPH_WITH_BROWSER:-0}" = "1" ] && [ ! -x /usr/bin/chromium ]; then
  APT_PACKAGES="$APT_PACKAGES chromium"
fi
if [ -n "$APT_PACKAGES" ]; then
  echo "[tinygraph] installing${APT_PACKAGES} with apt-get"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq $APT_PACKAGES >/dev/null
fi
# Playwright drives the system chromium (executable_path); it must never download a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

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
