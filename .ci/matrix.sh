#!/usr/bin/env bash
# CI: run `adamproofs check` on every installed framework and write the conformance matrix.
#
#   .ci/matrix.sh [OUT_DIR] [extra arguments for python -m adamproofs.conformance.matrix]
#
# OUT_DIR (relative to the repository root) defaults to build/conformance; it receives conformance-matrix.json,
# conformance-matrix.md and reports/ROW.json (the full report of each row). Frameworks
# that are not installed appear as "not installed". Exit status: 0 when the matrix was
# written (a framework that does not conform is a finding in the matrix, not a CI
# failure), non-zero when the matrix could not be produced.
# Environment: MATRIX_PROFILE (default: default), MATRIX_SEED (default: 0),
# MATRIX_DTYPES (default: float32,float64,float16,bfloat16), MATRIX_ROWS (default: every
# row of adamproofs.conformance.matrix.ROWS), PYTHON (default: python).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-build/conformance}"
shift || true
# Keras's backend: KERAS_BACKEND if set, else the adapter picks jax, else torch.
"${PYTHON:-python}" -m adamproofs.conformance.matrix --out "$out" \
  --profile "${MATRIX_PROFILE:-default}" --seed "${MATRIX_SEED:-0}" \
  --dtypes "${MATRIX_DTYPES:-float32,float64,float16,bfloat16}" \
  ${MATRIX_ROWS:+--rows "$MATRIX_ROWS"} "$@"
test -s "$out/conformance-matrix.json"
test -s "$out/conformance-matrix.md"
echo "conformance matrix: $out/conformance-matrix.md"

# The ecosystem matrix in its CI form: a few of the shipped implementations, every cell in this
# interpreter (no per-library environments), on a LocalCluster of two workers; quick profile,
# float32, three properties. MATRIX_ECOSYSTEM=0 skips it. The full run is documented on the
# site's conformance-matrix page.
if [ "${MATRIX_ECOSYSTEM:-1}" = 1 ]; then
  "${PYTHON:-python}" -m adamproofs matrix --current-env --workers 2 --profile quick \
    --dtypes float32 --properties agreement,first_step,step_bound \
    --only numpy,torch-adam,torch-adamw,optax-adam,keras-adam,jax-example-adam \
    --out "$out/ecosystem"
  test -s "$out/ecosystem/ecosystem-matrix.json"
  test -s "$out/ecosystem/ecosystem-matrix.md"
  echo "ecosystem matrix: $out/ecosystem/ecosystem-matrix.md"
fi
