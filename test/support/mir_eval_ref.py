#!/usr/bin/python3
"""Reference scores for test/unit/metrics.test.ts.

Usage: /usr/bin/python3 test/support/mir_eval_ref.py DIR

DIR holds manifest.json ({"cases": [{"name": ...}, ...]}) and, per case, NAME.ref.f64 and NAME.est.f64:
raw little-endian float64 samples of the reference and the estimate. Prints one JSON object:
{"mir_eval": VERSION, "cases": {NAME: {"sdr", "sir", "sar", "sisdr", "seconds"}}} where sdr/sir/sar come
from mir_eval.separation.bss_eval_sources (BSS Eval v3) and sisdr from the plain numpy formula below.
Infinite values are written as the strings "Infinity"/"-Infinity" (JSON has no infinity).
Exit code 3 with a one-line message on stderr when numpy or mir_eval cannot be imported.
"""
import json
import math
import os
import sys
import time
import warnings


def fail(msg):
    sys.stderr.write("mir_eval_ref: " + msg + "\n")
    sys.exit(3)


try:
    import numpy as np
except ImportError:
    fail("numpy is not importable by %s (apt-get install python3-mir-eval, which brings python3-numpy)" % sys.executable)
try:
    import mir_eval
    import mir_eval.separation
except ImportError as e:
    fail("mir_eval is not importable by %s: %s (apt-get install python3-mir-eval)" % (sys.executable, e))


def si_sdr(ref, est):
    # Le Roux et al. 2019, zero-mean convention: remove both means, project, compare energies.
    s = ref - ref.mean()
    e = est - est.mean()
    target = (np.dot(e, s) / np.dot(s, s)) * s
    residual = e - target
    with np.errstate(divide="ignore"):  # an exact copy: +inf, as the TypeScript side returns
        return 10 * np.log10(np.dot(target, target) / np.dot(residual, residual))


def num(x):
    x = float(x)
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def main():
    if len(sys.argv) != 2:
        fail("usage: mir_eval_ref.py DIR")
    d = sys.argv[1]
    with open(os.path.join(d, "manifest.json")) as f:
        manifest = json.load(f)
    out = {}
    for case in manifest["cases"]:
        name = case["name"]
        ref = np.fromfile(os.path.join(d, name + ".ref.f64"), dtype="<f8")
        est = np.fromfile(os.path.join(d, name + ".est.f64"), dtype="<f8")
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(ref[np.newaxis, :], est[np.newaxis, :])
        seconds = time.perf_counter() - t0
        out[name] = {"sdr": num(sdr[0]), "sir": num(sir[0]), "sar": num(sar[0]), "sisdr": num(si_sdr(ref, est)), "seconds": seconds}
    json.dump({"mir_eval": mir_eval.__version__, "cases": out}, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


main()
