"""Keras inference speed on stage-2 test parts: the reference for topoflow's `score` (bench/scoring.ts).

Loads the test parts with train_keras.py's reader (pyarrow → numpy, optionally trimmed to the longest real
particle list), builds the seed's model (untrained: the speed does not depend on the weights; GRU with
reset_after=false, as TensorFlow.js has) and times `model.predict(x, batch_size)` over the whole set, best of
--repeat after one warm-up call (tracing). Prints one JSON object: events/s and what was measured.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_keras import assemble, build_model, inputs_of, load, set_threads  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--test", nargs="+", required=True, metavar="FILE")
    p.add_argument("--model", required=True, choices=["hlf", "particle_sequence", "inclusive", "inclusive_lstm"])
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=None, help="intra- and inter-op threads (default: TensorFlow's own)")
    p.add_argument("--trim", dest="trim", action="store_true", default=True)
    p.add_argument("--no-trim", dest="trim", action="store_false")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    import keras

    set_threads(tf, args.threads)
    need_seq, need_hlf = inputs_of(args.model)
    parts, order, _, info = load(args.test, need_seq=need_seq, need_hlf=need_hlf, trim=args.trim, train=False)
    seq_len = None
    if need_seq:
        seq_len = max(info["real_length"]["max"], 1) if args.trim else info["particles"]
    hlf, seq = assemble(parts, order, seq_len)
    keras.utils.set_random_seed(1)
    model, inputs = build_model(args.model, seq_len or 0, False)
    pick = {"hlf": hlf, "seq": seq}
    x = [pick[i] for i in inputs]
    x = x[0] if len(x) == 1 else x
    n = len(order)
    model.predict(x, batch_size=args.batch_size, verbose=0)  # warm-up: tracing
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        model.predict(x, batch_size=args.batch_size, verbose=0)
        best = min(best, time.perf_counter() - t0)
    json.dump({"model": args.model, "events": n, "sequence_length": seq_len, "seconds": best, "events_per_s": n / best,
               "threads": args.threads, "tensorflow_version": tf.__version__, "keras_version": keras.__version__}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
