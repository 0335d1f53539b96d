#!/usr/bin/env bash
# Accelerator benchmarks: the CPU scripts at accelerator sizes, in one run of under 5 minutes.
#
#   bash benchmarks/gpu.sh            # on a machine with one GPU (JAX with CUDA installed)
#   QUICK=1 bash benchmarks/gpu.sh    # tiny sizes: checks the script itself, on any machine
#
# Every line it prints is computed in that run; record the card, sizes, times and ratios in
# docs/benchmarks.md. Ratios are against baselines measured on the same device in the same process:
#   ntk.py    a/d: empirical_ntk against a bare J @ J.T of the same (n, m) shape; a/(c+d) with
#             the exponential floor (c) timed on 2^28 exponentials and scaled to n*m*d
#   ntk.py    b'/a at a size where per-example autodiff's (n, m, d) tensor fits
#   train.py  steps/s of ntk_attention.train against jax.grad of a plain softmax forward
#   memory.py host peak RSS and device peak bytes for m = 2^22
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python}

if [[ -n "${QUICK:-}" ]]; then
  BIG="--n 256 --m 4096 --d 32"; MID="--n 64 --m 1024 --d 32"; LOG2M=16; REP=2
else
  BIG="--n 4096 --m 1048576 --d 32"; MID="--n 1024 --m 65536 --d 32"; LOG2M=22; REP=5
fi

"$PY" - <<'EOF'
import jax
print("backend:", jax.default_backend(), "devices:", jax.devices())
if jax.default_backend() == "cpu":
    print("WARNING: no accelerator found; the numbers below are CPU numbers")
EOF
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

START=$SECONDS
echo; echo "== NTK at accelerator size (no autodiff baselines: (n, m, d) does not fit)"
"$PY" ntk.py $BIG --dtypes float32 --baseline-dtypes "" --repeats $REP --chunks 2048,32768
echo; echo "== NTK at a size where per-example autodiff fits, float32 and float64"
"$PY" ntk.py $MID --dtypes float32,float64 --baseline-dtypes float32,float64 --repeats $REP
echo; echo "== training throughput"
"$PY" train.py $MID --steps 20 --repeats 3
echo; echo "== memory"
"$PY" memory.py --log2-m $LOG2M --n 256 --d 16
echo; echo "total $((SECONDS - START)) s"
