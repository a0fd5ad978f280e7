#!/usr/bin/env bash
# Creates the separate Python 3.13 virtual environment in which InterUSS's DSS prober
# (interuss-monitoring, PyPI) runs: tests/dss/test_prober.py uses it when it exists.
# Usage: tools/prober-venv.sh [VENV_DIR]   (default .venv-prober)
# Python 3.13 is looked up at run time: $PROBER_PYTHON, python3.13 on PATH, then pyenv's 3.13.x.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv-prober}"
VERSION="0.37.0"
STAMP="$VENV/.installed-$VERSION"

find_python() {
  local candidate
  for candidate in "${PROBER_PYTHON:-}" python3.13; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
      command -v "$candidate" || echo "$candidate"
      return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local root
    root="$(pyenv root)"
    for candidate in $(ls -d "$root"/versions/3.13* 2>/dev/null | sort -V -r); do
      if "$candidate/bin/python3.13" -c 'import sys' 2>/dev/null; then
        echo "$candidate/bin/python3.13"
        return 0
      fi
    done
  fi
  return 1
}

# The prober's error-case tests read request bodies from monitoring/prober/scd/resources/, which the
# wheel does not ship: they come from the same release of the interuss/monitoring repository (or from a
# local checkout of it named by PROBER_RESOURCES_DIR), into the environment, never into this repository.
add_resources() {
  local target
  target="$("$VENV/bin/python" -c 'import monitoring.prober, os; print(os.path.dirname(monitoring.prober.__file__))')/scd/resources"
  [ -d "$target" ] && return 0
  if [ -n "${PROBER_RESOURCES_DIR:-}" ]; then
    cp -r "$PROBER_RESOURCES_DIR" "$target"
    return 0
  fi
  local tmp
  tmp="$(mktemp -d)"
  if curl -fsSL --max-time 60 "https://github.com/interuss/monitoring/archive/refs/tags/v$VERSION.tar.gz" \
      | tar xz -C "$tmp" --wildcards "*/monitoring/prober/scd/resources" 2>/dev/null; then
    cp -r "$tmp"/*/monitoring/prober/scd/resources "$target"
  else
    echo "note: could not fetch the prober's scd/resources (v$VERSION) from GitHub; tests/dss/test_prober.py" \
      "feeds its error-case tests the bodies of tests/dss/prober_requests.py instead" >&2
  fi
  rm -rf "$tmp"
}

if [ -f "$STAMP" ]; then
  add_resources
  echo "$VENV is ready"
  exit 0
fi
if ! PY="$(find_python)"; then
  echo "no Python 3.13 found (set PROBER_PYTHON, put python3.13 on PATH or install it with pyenv)" >&2
  exit 3
fi
echo "creating $VENV with $PY"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "interuss-monitoring==$VERSION"
touch "$STAMP"
add_resources
echo "$VENV is ready"
