#!/usr/bin/env bash
# Creates the trainer's Python environment from trainer/requirements.lock and links trainer/.venv
# to it. The venv lives outside the clone (keyed by the lock's hash) so repeated clones and CI runs
# reuse it: PyTorch from PyPI is the CUDA build, several GB. Idempotent: a complete venv is reused.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock="$here/requirements.lock"
key="$(sha256sum "$lock" | cut -c1-12)"
venv="${TUNEGRID_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tunegrid/venv-$key}"
python="${TUNEGRID_BOOTSTRAP_PYTHON:-python3}"

if [ ! -f "$venv/.complete" ]; then
  echo "tunegrid: creating the trainer's Python environment in $venv (first time only; PyTorch is a few GB)" >&2
  if ! command -v uv >/dev/null 2>&1; then
    "$python" -m pip install --quiet uv || { echo "tunegrid: could not install uv with $python -m pip" >&2; exit 1; }
  fi
  uv=$(command -v uv || echo "$("$python" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/uv")
  rm -rf "$venv"
  "$uv" venv --quiet --python "$python" "$venv"
  "$uv" pip install --quiet --python "$venv/bin/python" -r "$lock"
  touch "$venv/.complete"
fi
ln -sfn "$venv" "$here/.venv"
echo "tunegrid: trainer Python ready: $here/.venv -> $venv" >&2
