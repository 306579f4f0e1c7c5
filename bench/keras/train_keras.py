#!/usr/bin/env python3
"""Keras reference trainer for the TensorFlow.js parity benchmark.

Trains the seed's topology classifiers (Keras functional API, tensorflow-cpu)
on topoflow stage-2 Parquet parts (layout: hep/features/parquet.ts) and writes one
JSON result: history, per-class one-vs-rest test AUC, accuracy and training
throughput. Run it with the interpreter infra/python-bench.sh prints:

    $(infra/python-bench.sh) bench/keras/train_keras.py \
        --train DIR/train-*.parquet --test DIR/test-*.parquet \
        --model inclusive --epochs 5 --batch-size 128 --seed 42 --out result.json

Data handling mirrors the TypeScript readers: train parts are merged and put in
the global seeded order (shuffle_key, then source_file, then entry, as
mergeByShuffleKey does); test parts are concatenated in the given order.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

CLASS_NAMES = ("QCD", "ttbar", "W+jets")
HLF = 14
FEATURES = 19
CLASSES = 3
PARTICLES_KEY = b"topoflow.particles"
WARMUP_STEPS = 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", nargs="+", required=True, metavar="FILE", help="stage-2 train parts (merged, ordered by shuffle_key)")
    p.add_argument("--test", nargs="+", required=True, metavar="FILE", help="stage-2 test parts (concatenated in the given order)")
    p.add_argument("--model", required=True, choices=["hlf", "particle_sequence", "inclusive", "inclusive_lstm"])
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, required=True, help="tf.keras.utils.set_random_seed (python, numpy, tf: init, dropout, shuffling)")
    p.add_argument("--threads", type=int, default=None, help="intra- and inter-op parallelism (default: TensorFlow's own)")
    p.add_argument("--max-train", type=int, default=None, metavar="N", help="use only the first N train rows (in shuffle order)")
    p.add_argument("--max-steps", type=int, default=None, metavar="N",
                   help="throughput mode: train only N batches (one pass, no validation), rate after %d warm-up steps" % WARMUP_STEPS)
    p.add_argument("--trim", dest="trim", action="store_true", default=True,
                   help="(default) cut the time axis to the longest real (not all-zero) particle list in train+test")
    p.add_argument("--no-trim", dest="trim", action="store_false", help="keep the files' full particle axis")
    p.add_argument("--reset-after", choices=["true", "false"], default="true",
                   help="GRU reset_after (Keras default true; false matches TensorFlow.js)")
    p.add_argument("--jit-compile", choices=["auto", "true", "false"], default="auto",
                   help="Keras jit_compile (XLA); auto = Keras' default (XLA when every layer supports it)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's learning rate (default 1e-3, as the seed)")
    p.add_argument("--lr-schedule", default=None, metavar="E:F,...",
                   help="learning-rate steps as topoflow's train `lrSchedule`: from epoch E (1-based) on, lr x F; "
                        "e.g. 4:0.4,6:0.2 (the seed's distributed runs)")
    p.add_argument("--early-stopping", default=None, metavar="PATIENCE:MIN_DELTA",
                   help="keras EarlyStopping on val_loss (as topoflow's train `earlyStopping`), e.g. 2:0.001")
    p.add_argument("--verbose", type=int, default=2, choices=[0, 1, 2], help="Keras fit verbosity (stderr)")
    p.add_argument("--out", required=True, help="result JSON path")
    a = p.parse_args(argv)
    for name in ("epochs", "batch_size", "max_train", "max_steps", "threads"):
        v = getattr(a, name)
        if v is not None and v <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    return a


def log(msg: str) -> None:
    print(f"train_keras: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Data


def _list_matrix(column, width: int | None, name: str, path: str):
    """A list<float32> column of equal-length lists as a (rows, width) float32 array, no Python loops."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(arr)
    if n == 0:
        return np.zeros((0, width or 0), dtype=np.float32)
    lengths = pc.list_value_length(arr)
    lo, hi = pc.min(lengths).as_py(), pc.max(lengths).as_py()
    if lo != hi or (width is not None and lo != width):
        raise SystemExit(f"{path}: {name} lists have lengths {lo}..{hi}, expected {width if width is not None else 'equal lengths'}")
    flat = arr.flatten()  # respects slice offsets, unlike .values
    values = flat.to_numpy(zero_copy_only=False)
    return values.astype(np.float32, copy=False).reshape(n, lo)


class Part:
    """One Parquet part as numpy arrays; the particle axis already trimmed to this part's longest real list if asked."""

    def __init__(self, path: str, need_seq: bool, need_hlf: bool, trim: bool):
        import numpy as np
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        meta = pf.metadata.metadata or {}
        cols = ["label", "shuffle_key", "source_file", "entry"]
        if need_hlf:
            cols.append("HLF_input")
        if need_seq:
            cols.append("GRU_input")
        table = pf.read(columns=[c for c in cols if c in pf.schema_arrow.names])
        self.path = path
        self.rows = table.num_rows
        self.label = table.column("label").to_numpy().astype(np.int64)
        self.key = table.column("shuffle_key").to_numpy() if "shuffle_key" in table.column_names else None
        self.source = table.column("source_file").to_numpy(zero_copy_only=False).astype(str)
        self.entry = table.column("entry").to_numpy()
        self.hlf = _list_matrix(table.column("HLF_input"), HLF, "HLF_input", path) if need_hlf else None
        self.seq = None
        self.particles = int(meta[PARTICLES_KEY]) if PARTICLES_KEY in meta else None
        if need_seq:
            flat = _list_matrix(table.column("GRU_input"), None, "GRU_input", path)
            width = flat.shape[1]
            if width % FEATURES:
                raise SystemExit(f"{path}: GRU_input has {width} values per row, not a multiple of {FEATURES}")
            particles = width // FEATURES
            if self.particles is not None and self.particles != particles and self.rows:
                raise SystemExit(f"{path}: metadata says {self.particles} particles, rows have {particles}")
            self.particles = particles
            seq = flat.reshape(self.rows, particles, FEATURES)
            real = np.any(seq != 0, axis=2)  # (rows, particles): not an all-zero (padding) row
            any_real = real.any(axis=1)
            # Per event: index of the last real row + 1 (0 for an event with none).
            self.lengths = np.where(any_real, particles - np.argmax(real[:, ::-1], axis=1), 0)
            # All-zero rows before an event's last real row: masked by Keras, but not trailing padding.
            self.interior_zero_rows = int(self.lengths.sum() - real.sum())
            self.longest = int(self.lengths.max()) if self.rows else 0
            del real
            self.seq = np.ascontiguousarray(seq[:, : self.longest]) if trim else seq
        del table


def load(paths: list[str], *, need_seq: bool, need_hlf: bool, trim: bool, train: bool):
    import numpy as np

    parts = [Part(p, need_seq, need_hlf, trim) for p in paths]
    n = sum(p.rows for p in parts)
    label = np.concatenate([p.label for p in parts])
    if train:
        if any(p.key is None for p in parts):
            raise SystemExit("a train part has no shuffle_key column")
        key = np.concatenate([p.key for p in parts])
        source = np.concatenate([p.source for p in parts])
        entry = np.concatenate([p.entry for p in parts])
        order = np.lexsort((entry, source, key))  # last key is primary: shuffle_key, source_file, entry
    else:
        order = np.arange(n)
    info = {"files": list(paths), "rows": int(n), "class_counts": np.bincount(label, minlength=CLASSES).tolist()}
    if need_seq:
        particles = {p.particles for p in parts if p.rows}
        if len(particles) > 1:
            raise SystemExit(f"parts disagree on the particle count: {sorted(particles)}")
        info["particles"] = particles.pop() if particles else 0
        lengths = np.concatenate([p.lengths for p in parts]) if n else np.zeros(0)
        info["real_length"] = {"max": int(lengths.max()) if n else 0, "mean": float(lengths.mean()) if n else 0.0,
                               "p99": float(np.percentile(lengths, 99)) if n else 0.0}
        info["interior_zero_rows"] = sum(p.interior_zero_rows for p in parts)
    return parts, order, label[order], info


def assemble(parts, order, length: int | None):
    """Scatter the selected rows (`order`: indices into the parts' concatenation) into arrays in that order,
    zero-padding sequences to `length`; rows not in `order` are skipped."""
    import numpy as np

    total = sum(p.rows for p in parts)
    m = len(order)
    inverse = np.full(total, -1, dtype=np.int64)
    inverse[order] = np.arange(m)
    hlf = seq = None
    if parts and parts[0].hlf is not None:
        hlf = np.empty((m, HLF), dtype=np.float32)
    if parts and parts[0].seq is not None:
        seq = np.zeros((m, length, FEATURES), dtype=np.float32)
    at = 0
    for p in parts:
        dest = inverse[at: at + p.rows]
        keep = dest >= 0
        if hlf is not None:
            hlf[dest[keep]] = p.hlf[keep]
        if seq is not None:
            seq[dest[keep], : p.seq.shape[1]] = p.seq[keep]
            p.seq = None  # free as we go
        at += p.rows
    return hlf, seq


# ---------------------------------------------------------------------------
# Models (the seed's, Keras functional API)


def build_model(name: str, seq_len: int, reset_after: bool):
    import keras
    from keras import layers

    def recurrent(x):
        x = layers.Masking(mask_value=0.0)(x)
        if name == "inclusive_lstm":
            x = layers.LSTM(50, activation="tanh", recurrent_activation="sigmoid")(x)
        else:
            x = layers.GRU(50, activation="tanh", recurrent_activation="sigmoid", reset_after=reset_after)(x)
        return layers.Dropout(0.2)(x)

    if name == "hlf":
        inp = keras.Input(shape=(HLF,), name="HLF_input")
        x = layers.Dense(50, activation="relu")(inp)
        x = layers.Dense(20, activation="relu")(x)
        x = layers.Dense(10, activation="relu")(x)
        out = layers.Dense(CLASSES, activation="softmax")(x)
        return keras.Model(inp, out, name=name), ["hlf"]
    if name == "particle_sequence":
        inp = keras.Input(shape=(seq_len, FEATURES), name="GRU_input")
        out = layers.Dense(CLASSES, activation="softmax")(recurrent(inp))
        return keras.Model(inp, out, name=name), ["seq"]
    seq_in = keras.Input(shape=(seq_len, FEATURES), name="GRU_input")
    hlf_in = keras.Input(shape=(HLF,), name="HLF_input")
    x = layers.Concatenate()([recurrent(seq_in), layers.Dropout(0.2)(hlf_in)])
    x = layers.Dense(25, activation="relu")(x)
    out = layers.Dense(CLASSES, activation="softmax")(x)
    return keras.Model([seq_in, hlf_in], out, name=name), ["seq", "hlf"]


def set_threads(tf, threads: int | None) -> None:
    """Intra- and inter-op threads; must run before TensorFlow runs any op (None: TensorFlow's own)."""
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def inputs_of(model: str) -> tuple[bool, bool]:
    """Whether the model reads the particle sequence, and the HLF."""
    return model != "hlf", model != "particle_sequence"


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.perf_counter()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf
    import keras
    from sklearn.metrics import roc_auc_score

    set_threads(tf, args.threads)
    need_seq, need_hlf = inputs_of(args.model)
    t0 = time.perf_counter()
    train_parts, train_order, y_train_label, train_info = load(args.train, need_seq=need_seq, need_hlf=need_hlf, trim=args.trim, train=True)
    test_parts, test_order, y_test_label, test_info = load(args.test, need_seq=need_seq, need_hlf=need_hlf, trim=args.trim, train=False)
    seq_len = None
    particles = None
    if need_seq:
        particles = train_info["particles"] or test_info["particles"]
        if train_info["particles"] and test_info["particles"] and train_info["particles"] != test_info["particles"]:
            raise SystemExit(f"train has {train_info['particles']} particles per event, test {test_info['particles']}")
        seq_len = max(train_info["real_length"]["max"], test_info["real_length"]["max"], 1) if args.trim else particles
    if args.max_train is not None:
        train_order = train_order[: args.max_train]
        y_train_label = y_train_label[: args.max_train]
    if args.max_steps is not None:
        cap = args.max_steps * args.batch_size
        if cap > len(train_order):
            log(f"warning: --max-steps {args.max_steps} needs {cap} train rows, only {len(train_order)} available; "
                f"running {-(-len(train_order) // args.batch_size)} steps")
        train_order = train_order[:cap]
        y_train_label = y_train_label[:cap]
    hlf_train, seq_train = assemble(train_parts, train_order, seq_len)
    n_train = len(train_order)
    hlf_test, seq_test = assemble(test_parts, test_order, seq_len)
    del train_parts, test_parts
    load_seconds = time.perf_counter() - t0
    n_test = len(test_order)
    y_train = np.eye(CLASSES, dtype=np.float32)[y_train_label]
    y_test = np.eye(CLASSES, dtype=np.float32)[y_test_label]
    log(f"loaded {n_train} train / {n_test} test rows in {load_seconds:.1f}s"
        + (f"; sequence length {seq_len} of {particles}" if need_seq else ""))

    keras.utils.set_random_seed(args.seed)
    model, inputs = build_model(args.model, seq_len or 0, args.reset_after == "true")
    jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.learning_rate, epsilon=1e-7),
                  loss="categorical_crossentropy", metrics=["accuracy"], jit_compile=jit)
    pick = {"hlf": (hlf_train, hlf_test), "seq": (seq_train, seq_test)}
    x_train = [pick[i][0] for i in inputs]
    x_test = [pick[i][1] for i in inputs]
    if len(inputs) == 1:
        x_train, x_test = x_train[0], x_test[0]
    params = int(model.count_params())
    log(f"model {args.model}: {params} params, jit_compile={model.jit_compile}")

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs: list[dict] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.epochs.append({"begin": time.perf_counter(), "batch_end": []})

        def on_train_batch_end(self, batch, logs=None):
            self.epochs[-1]["batch_end"].append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            self.epochs[-1]["end"] = time.perf_counter()

    timer = Timer()
    callbacks = [timer]
    if args.lr_schedule:
        steps = sorted((int(e), float(f)) for e, f in (x.split(":") for x in args.lr_schedule.split(",")))

        def factor(epoch1: int) -> float:
            return ([1.0] + [f for e, f in steps if epoch1 >= e])[-1]

        callbacks.append(keras.callbacks.LearningRateScheduler(lambda epoch, lr: args.learning_rate * factor(epoch + 1)))
    if args.early_stopping:
        patience, min_delta = args.early_stopping.split(":")
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=int(patience), min_delta=float(min_delta)))
    fit_kwargs = dict(batch_size=args.batch_size, shuffle=True, callbacks=callbacks, verbose=args.verbose)
    if args.max_steps is not None:
        hist = model.fit(x_train, y_train, epochs=1, **fit_kwargs)
    else:
        hist = model.fit(x_train, y_train, epochs=args.epochs, validation_data=(x_test, y_test), **fit_kwargs)

    steps_per_epoch = -(-n_train // args.batch_size)
    history = []
    for e, t in enumerate(timer.epochs):
        row = {"epoch": e + 1}
        for k in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if k in hist.history:
                row[k] = float(hist.history[k][e])
        train_s = t["batch_end"][-1] - t["begin"]
        row["seconds"] = t["end"] - t["begin"]
        row["train_seconds"] = train_s
        if "val_loss" in hist.history:
            row["validation_seconds"] = t["end"] - t["batch_end"][-1]
        row["train_samples_per_s"] = n_train / train_s
        history.append(row)

    def steady(ends: list[float], n_steps: int) -> float | None:
        """Samples/s over steps after the warm-up ones (time from the end of warm-up step to the last step's end)."""
        if n_steps <= WARMUP_STEPS:
            return None
        timed = min(n_train, n_steps * args.batch_size) - WARMUP_STEPS * args.batch_size
        return timed / (ends[n_steps - 1] - ends[WARMUP_STEPS - 1])

    first_ends = timer.epochs[0]["batch_end"]
    if args.max_steps is not None:
        rate = steady(first_ends, len(first_ends))
        basis = (f"max-steps throughput: {len(first_ends)} batches of {args.batch_size}, samples/s over steps "
                 f"{WARMUP_STEPS + 1}..{len(first_ends)} (first {WARMUP_STEPS} = tracing warm-up excluded); no validation")
    elif len(history) > 1:
        rate = sum(n_train for _ in history[1:]) / sum(h["train_seconds"] for h in history[1:])
        basis = f"training only (validation excluded), epochs 2..{len(history)} (epoch 1 excluded: tf.function tracing)"
    else:
        rate = history[0]["train_samples_per_s"]
        basis = "training only (validation excluded), the single epoch 1 INCLUDING tf.function tracing"

    t_eval = time.perf_counter()
    prob = model.predict(x_test, batch_size=max(args.batch_size, 1024), verbose=0)
    predict_seconds = time.perf_counter() - t_eval
    auc = {}
    for c, name in enumerate(CLASS_NAMES):
        positive = y_test_label == c
        auc[name] = float(roc_auc_score(positive, prob[:, c])) if 0 < positive.sum() < n_test else None
    eps = 1e-7
    test_loss = float(-np.mean(np.log(np.clip(prob[np.arange(n_test), y_test_label], eps, 1.0)))) if n_test else None
    accuracy = float(np.mean(prob.argmax(axis=1) == y_test_label)) if n_test else None

    result = {
        "framework": "keras",
        "model": args.model,
        "params": params,
        "reset_after": args.reset_after == "true" if args.model in ("particle_sequence", "inclusive") else None,
        "epochs": len(history),
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "lr_schedule": args.lr_schedule,
        "early_stopping": args.early_stopping,
        "seed": args.seed,
        "max_train": args.max_train,
        "max_steps": args.max_steps,
        "steps_per_epoch": steps_per_epoch,
        "steps_run": sum(len(t["batch_end"]) for t in timer.epochs),
        "n_train": int(n_train),
        "n_test": int(n_test),
        "train_class_counts": np.bincount(y_train_label, minlength=CLASSES).tolist(),
        "test_class_counts": np.bincount(y_test_label, minlength=CLASSES).tolist(),
        "particles_in_files": particles,
        "trim": bool(args.trim) if need_seq else None,
        "sequence_length": seq_len,
        "real_length": {"train": train_info.get("real_length"), "test": test_info.get("real_length")} if need_seq else None,
        "interior_zero_rows": (train_info["interior_zero_rows"] + test_info["interior_zero_rows"]) if need_seq else None,
        "history": history,
        "auc": auc,
        "auc_macro": float(np.mean([v for v in auc.values() if v is not None])) if any(v is not None for v in auc.values()) else None,
        "accuracy": accuracy,
        "test_loss": test_loss,
        "train_samples_per_s": rate,
        "train_samples_per_s_basis": basis,
        "train_samples_per_s_epoch1_after_warmup": steady(first_ends, len(first_ends)),
        "load_seconds": load_seconds,
        "predict_seconds": predict_seconds,
        "total_seconds": time.perf_counter() - t_start,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "jit_compile": bool(model.jit_compile),
        "threads": {"requested": args.threads,
                    "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                    "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
                    "note": "0 = TensorFlow's default (all cores)",
                    "cpu_count": os.cpu_count()},
        "platform": {"python": platform.python_version(), "machine": platform.machine(), "processor": platform.processor() or None},
        "train_files": args.train,
        "test_files": args.test,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    log(f"AUC {', '.join(f'{k} {v:.4f}' for k, v in auc.items() if v is not None)}; accuracy {accuracy:.4f}; "
        f"{rate:.0f} train samples/s ({basis}) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
