#!/usr/bin/env bash
# One device call for this session's GPU checks, after ../shared/gpu/make-bundle.sh filled .gpu/:
#     bash drafts/gpu/run_all.sh
# 1. ../shared/gpu/run.sh's setup, unit tests and the chapters named in $GPU_CHAPTERS under nbval (no benchmark);
# 2. every drafts/gpu/NN_*.py experiment, each under its own time limit, output in $OUT/<name>.log.
set -u
G=$(pwd)/.gpu
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
export GPU_UNIT_TESTS=${GPU_UNIT_TESTS:-tests}
export GPU_CHAPTERS=${GPU_CHAPTERS:-"chapters/08_gpt.ipynb chapters/09_gan.ipynb chapters/10_diffusion.ipynb"}
python3 - "$G/run.sh" "$G/run_some.sh" <<'PY'
import sys
s = open(sys.argv[1]).read()
loop = "for nb in chapters/[0-9][0-9]_*.ipynb; do"
assert s.count(loop) == 2, "run.sh changed: update drafts/gpu/run_all.sh"
s = s.replace(loop, "for nb in $GPU_CHAPTERS; do", 1).replace(loop, "for nb in ${GPU_BENCH:-}; do", 1)
unit = '"${PYTEST[@]}" tests -q -x'
assert unit in s, "run.sh changed: update drafts/gpu/run_all.sh"
s = s.replace(unit, '"${PYTEST[@]}" ${GPU_UNIT_TESTS:-tests} -q -x')
open(sys.argv[2], "w").write(s)
PY
start=$(date +%s)
GPU_BUDGET_S=${GPU_BUDGET_S:-330} bash "$G/run_some.sh"
echo "== run.sh part: rc $? after $(( $(date +%s) - start ))s"
PROJ=$([ -d "$G/proj" ] && echo "$G/proj" || pwd)   # as run.sh: a copy in the bundle, else this checkout
export DLCOURSE_DATA=/tmp/dlcourse-data PYTHONPATH=/tmp/site:$PROJ PYTHONUNBUFFERED=1 MPLBACKEND=Agg
cd "$PROJ" || exit 2
for script in drafts/gpu/[0-9][0-9]_*.py; do
  name=$(basename "$script" .py)
  t0=$(date +%s)
  timeout -k 5 "${GPU_SCRIPT_CAP_S:-110}" python3 "$script" > "$OUT/$name.log" 2>&1
  echo "== $name: rc $? in $(( $(date +%s) - t0 ))s"; tail -n 25 "$OUT/$name.log"
done
echo "== all done after $(( $(date +%s) - start ))s"
