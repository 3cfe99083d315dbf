#!/usr/bin/env bash
# Every lecture and solved sheet, in every language, in full mode, on the offline GPU machine: a table of
# per-notebook times and results (see ../shared/gpu/README.md and the README's "On a GPU").
#
#   On a machine with the package registry, once:   ../shared/gpu/fetch-wheels matplotlib-fontja jupytext babel
#   Then, with the working tree and .whl/ copied to the GPU machine, from the repository's root:
#       OUT=gpu-run JOBS=8 bash tools/gpu_notebooks.sh
#
# The Jupyter stack is installed from .whl/ into /tmp/site (no network), the checkout's nfcourse is imported
# from the working tree, and the table goes to $OUT/notebook_times.md (the log to $OUT/log.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-run}"
mkdir -p "$out"
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD" PATH="/tmp/site/bin:$PATH"
python3 -m ipykernel install --user --name python3 >/dev/null
python3 -m tools.notebook_times --full --jobs "${JOBS:-8}" --out "$out/notebook_times.md" \
    notebooks/*/*.ipynb solutions/*/*.ipynb 2>&1 | grep -v "Kernel is running over TCP" | tee "$out/log.txt"
