#!/usr/bin/env bash
# Chapter 9 on a GPU machine (no network): set up as .gpu/run.sh does, execute the notebook with nbclient,
# write the executed notebook and a timing line to $OUT. Run from the repo root with .gpu carried.
set -u
G=.gpu; J=/tmp/dlc-jupyter; OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
export DLCOURSE_DATA=/tmp/dlcourse-data PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
export JUPYTER_PLATFORM_DIRS=1 JUPYTER_PATH=$J/share/jupyter JUPYTER_RUNTIME_DIR=$J/runtime JUPYTER_CONFIG_DIR=$J/config
export JUPYTER_DATA_DIR=$J/data IPYTHONDIR=$J/ipython MPLCONFIGDIR=$J/mpl
rm -rf /tmp/site "$DLCOURSE_DATA" "$J"; mkdir -p "$JUPYTER_RUNTIME_DIR" "$MPLCONFIGDIR"
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site "$G"/whl/*.whl || exit 2
cp -r "$G/data" "$DLCOURSE_DATA"
[ -e /usr/share/datasets/fashion-mnist ] || { mkdir -p /usr/share/datasets && ln -s "$DLCOURSE_DATA/fashion-mnist" /usr/share/datasets/fashion-mnist; }
python3 - <<'PY'
import json, os, sys
d = os.path.join(os.environ["JUPYTER_PATH"], "kernels", "python3"); os.makedirs(d, exist_ok=True)
spec = {"display_name": "Python 3", "language": "python",
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "env": {k: os.environ[k] for k in ("PYTHONPATH", "DLCOURSE_DATA", "MPLCONFIGDIR", "IPYTHONDIR")}}
json.dump(spec, open(os.path.join(d, "kernel.json"), "w"))
PY
nvidia-smi --query-gpu=name --format=csv,noheader
cd chapters && python3 - <<'PY'
import os, time, nbformat, nbclient
nb = nbformat.read("09_gan.ipynb", as_version=4)
start = time.time()
try:
    nbclient.NotebookClient(nb, timeout=500, kernel_name="python3").execute()
    status = "ok"
except Exception as e:
    status = f"FAILED: {type(e).__name__}: {str(e)[-1500:]}"
print(f"09_gan on GPU: {status} in {time.time() - start:.1f} s")
nbformat.write(nb, os.path.join(os.environ.get("OUT", "/tmp/out"), "09_gan_gpu.ipynb"))
PY
