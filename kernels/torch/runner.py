"""The training loop of the torch kernel (see train.py): the job in, messages
out through `emit`, files into the job's outDir."""

import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from checkpoints import Checkpoints, pack
from model import Classifier, SpecError
from rng import Rng
from store import Store, StoreError
from stream import Needs, batches, epoch_rows, ordered_rows, prefetch

PROB_CLIP = 1e-7
CLASSES = 3


def pick_device(choice: str, bad_input) -> torch.device:
    if choice not in ("auto", "cpu", "cuda"):
        raise bad_input(f"device must be auto, cpu or cuda, not {choice!r}")
    if choice == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if choice == "cuda":
        raise bad_input(f"device: cuda, but torch {torch.__version__} sees no usable GPU (built for CUDA {torch.version.cuda}; is an NVIDIA driver loaded?)")
    return torch.device("cpu")


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda})"
    return f"cpu ({torch.get_num_threads()} threads)"


def uses(spec: dict, name: str) -> bool:
    return spec.get("input") == name or name in (spec.get("branches") or {})


def masks_padding(spec: dict) -> bool:
    layers = spec["layers"] if spec.get("input") == "particles" else (spec.get("branches") or {}).get("particles")
    return bool(layers) and "masking" in layers[0] and layers[0]["masking"] == 0


def early_stop_due(history: list, rule) -> bool:
    if not rule or not history:
        return False
    best = 0
    for i in range(1, len(history)):
        if history[i]["valLoss"] < history[best]["valLoss"] - rule["minDelta"]:
            best = i
    return len(history) - 1 - best >= rule["patience"]


def step_seed(seed: int, step: int) -> int:
    """Dropout masks are a function of (seed, step): a resumed run draws the lost run's masks."""
    return Rng(seed, step, 0xD809).u32()


def clipped_loss(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Keras' categorical cross-entropy on probabilities clipped to [1e-7, 1 - 1e-7]."""
    picked = probs.gather(1, labels.unsqueeze(1)).squeeze(1)
    return -torch.log(picked.clamp(PROB_CLIP, 1 - PROB_CLIP)).mean()


def run(job: dict, emit, bad_input) -> None:
    threads = int(job.get("threads") or 1)
    torch.set_num_threads(threads)
    device = pick_device(job.get("device", "auto"), bad_input)
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True)
    else:
        # cuDNN's RNN kernels and atomics-based reductions are not bit-reproducible; these settings make what can be
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    spec = job["spec"]
    seed = int(job["seed"])
    try:
        model = Classifier(spec, seed).to(device)
    except SpecError as err:
        raise bad_input(f"model {spec.get('name') or '(inline)'}: {err}") from err
    store = Store(job["storage"])
    needs = Needs(hlf=uses(spec, "hlf"), particles=uses(spec, "particles"), trim=bool(job["trim"]) and masks_padding(spec))
    names = [n for n, _ in model.named_weights()]
    params = [p for _, p in model.named_weights()]
    n_params = sum(p.numel() for p in params)
    opt = torch.optim.Adam(params, lr=job["learningRate"], betas=(0.9, 0.999), eps=1e-7)
    emit("hello", torch=torch.__version__, device=describe(device), deviceType=device.type, params=n_params, weights=names)

    train_parts, test_parts = job["train"], job["test"]
    train_rows = sum(p["rows"] for p in train_parts)
    test_rows = sum(p["rows"] for p in test_parts)
    if train_rows == 0:
        raise bad_input("the training set is empty")
    bs, epochs = int(job["batchSize"]), int(job["epochs"])
    steps_per_epoch = math.ceil(train_rows / bs)
    ckpts = Checkpoints(store, job["checkpointFolder"])

    state = {"epoch": 0, "stepInEpoch": 0, "globalStep": 0, "history": [], "partial": empty_partial()}
    restored = ckpts.latest(lambda m: emit("log", message=m))
    resumed_from = None
    if restored:
        step, saved, tensor_names, tensors = restored
        restore(model, opt, params, names, tensor_names, tensors, saved["globalStep"], device)
        state = saved
        resumed_from = step
        emit("log", message=f"resuming from the checkpoint at step {step} (epoch {state['epoch'] + 1}, step {state['stepInEpoch']} of {steps_per_epoch})")

    def save(st: dict) -> None:
        ckpts.save(st["globalStep"], st, snapshot(names, params, opt))

    pin = (lambda b: pin_batch(b)) if device.type == "cuda" else None
    last_save = time.monotonic()
    last_progress = 0.0
    predictions = labels = None
    rule = job.get("earlyStopping")
    while state["epoch"] < epochs and not early_stop_due(state["history"], rule):
        started = time.monotonic()
        p = state["partial"]
        elapsed = lambda: p["trainSeconds"] + (time.monotonic() - started)  # noqa: E731
        rows = epoch_rows(store, train_parts, needs, seed, state["epoch"], int(job["shuffleBuffer"]))
        model.train()
        for batch in prefetch(batches(rows, bs, needs, state["stepInEpoch"]), transform=pin):
            torch.manual_seed(step_seed(seed, state["globalStep"]))
            hlf, particles, lengths, y = to_device(batch, device)
            logits = model(hlf, particles, lengths)
            probs = torch.softmax(logits, dim=1)
            loss = clipped_loss(probs, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            correct = int((probs.argmax(1) == y).sum())
            p["lossSum"] += float(loss) * batch.size
            p["correct"] += correct
            p["seen"] += batch.size
            state["stepInEpoch"] += 1
            state["globalStep"] += 1
            now = time.monotonic()
            if now - last_progress > 0.5 or state["stepInEpoch"] == steps_per_epoch:
                last_progress = now
                emit(
                    "progress",
                    done=state["globalStep"],
                    total=steps_per_epoch * epochs,
                    unit="steps",
                    message=f"epoch {state['epoch'] + 1}/{epochs} · step {state['stepInEpoch']}/{steps_per_epoch} · loss {p['lossSum'] / p['seen']:.4f} · accuracy {p['correct'] / p['seen']:.4f} · {round(p['seen'] / max(elapsed(), 1e-9))} samples/s",
                )
            if state["stepInEpoch"] % int(job["checkpointSteps"]) == 0 or now - last_save > float(job["checkpointSeconds"]):
                save({**state, "partial": {**p, "trainSeconds": elapsed()}})
                last_save = time.monotonic()
        train_seconds = elapsed()
        val = evaluate(model, store, test_parts, test_rows, needs, int(job["evalBatchSize"]), device)
        predictions, labels = val["predictions"], val["labels"]
        m = {"epoch": state["epoch"] + 1, "loss": p["lossSum"] / p["seen"], "accuracy": p["correct"] / p["seen"], "valLoss": val["loss"], "valAccuracy": val["accuracy"], "trainSeconds": train_seconds, "samplesPerSecond": p["seen"] / train_seconds}
        emit("log", message=f"epoch {m['epoch']}/{epochs}: loss {m['loss']:.4f} accuracy {m['accuracy']:.4f} · val_loss {m['valLoss']:.4f} val_accuracy {m['valAccuracy']:.4f} · {round(m['samplesPerSecond'])} samples/s")
        state = {"epoch": state["epoch"] + 1, "stepInEpoch": 0, "globalStep": state["globalStep"], "history": state["history"] + [m], "partial": empty_partial()}
        save(state)
        last_save = time.monotonic()
        if state["epoch"] < epochs and early_stop_due(state["history"], rule):
            emit("log", message=f"early stop after epoch {state['epoch']}: val_loss has not improved by more than {rule['minDelta']} for {rule['patience']} epoch(s)")
    if predictions is None:  # resumed after the last epoch
        val = evaluate(model, store, test_parts, test_rows, needs, int(job["evalBatchSize"]), device)
        predictions, labels = val["predictions"], val["labels"]

    out = job["outDir"]
    weights, layout = pack([(n, t.detach().cpu().numpy()) for n, t in zip(names, params)])
    write(out, "weights.bin", weights)
    write(out, "predictions.bin", predictions.astype("<f4").tobytes())
    write(out, "labels.bin", labels.astype(np.int8).tobytes())
    torch.save({n: t.detach().cpu() for n, t in zip(names, params)}, os.path.join(out, "model.pt"))
    emit("done", history=state["history"], steps=state["globalStep"], resumedFromStep=resumed_from, params=n_params, weights=layout, testRows=test_rows, device=describe(device), torch=torch.__version__)


def empty_partial() -> dict:
    return {"lossSum": 0.0, "correct": 0, "seen": 0, "trainSeconds": 0.0}


def write(folder: str, name: str, body: bytes) -> None:
    with open(os.path.join(folder, name), "wb") as f:
        f.write(body)


def pin_batch(b):
    for field in ("hlf", "particles"):
        arr = getattr(b, field)
        if arr is not None:
            setattr(b, field, torch.from_numpy(arr).pin_memory())
    return b


def to_device(b, device: torch.device):
    def move(x):
        if x is None:
            return None
        t = x if isinstance(x, torch.Tensor) else torch.from_numpy(x)
        return t.to(device, non_blocking=True)

    lengths = torch.from_numpy(b.lengths) if b.lengths is not None else None  # packing wants lengths on the CPU
    return move(b.hlf), move(b.particles), lengths, torch.from_numpy(b.labels).to(device)


@torch.no_grad()
def evaluate(model, store, parts, n, needs, batch_size, device) -> dict:
    model.eval()
    predictions = np.zeros((n, CLASSES), dtype=np.float32)
    labels = np.zeros(n, dtype=np.int8)
    at, loss_sum = 0, 0.0
    for batch in prefetch(batches(ordered_rows(store, parts, needs), batch_size, needs)):
        hlf, particles, lengths, y = to_device(batch, device)
        probs = torch.softmax(model(hlf, particles, lengths), dim=1)
        if at + batch.size > n:
            raise StoreError(f"the test set has more rows than its manifest says ({n})")
        predictions[at : at + batch.size] = probs.cpu().numpy()
        labels[at : at + batch.size] = batch.labels
        loss_sum += float(clipped_loss(probs, y)) * batch.size
        at += batch.size
    if at != n:
        raise StoreError(f"the test set has {at} rows but its manifest says {n}")
    model.train()
    accuracy = float((predictions.argmax(1) == labels).mean()) if n else 0.0
    return {"predictions": predictions, "labels": labels, "loss": loss_sum / max(1, n), "accuracy": accuracy}


def snapshot(names: list, params: list, opt) -> list:
    """Weights, then Adam's first and second moments (zeros before the first step)."""
    out = [(f"weight/{n}", p.detach().cpu().numpy()) for n, p in zip(names, params)]
    for key, label in (("exp_avg", "adam.m"), ("exp_avg_sq", "adam.v")):
        for i, p in enumerate(params):
            s = opt.state.get(p, {})
            out.append((f"{label}/{i}", s[key].detach().cpu().numpy() if key in s else np.zeros(tuple(p.shape), np.float32)))
    return out


def restore(model, opt, params, names, tensor_names, tensors, global_step, device) -> None:
    expected = [f"weight/{n}" for n in names] + [f"adam.m/{i}" for i in range(len(params))] + [f"adam.v/{i}" for i in range(len(params))]
    if tensor_names != expected:
        raise StoreError(f"the checkpoint holds {len(tensor_names)} tensors that do not match this model's {len(expected)} (was the model changed?)")
    n = len(params)
    with torch.no_grad():
        for p, t in zip(params, tensors[:n]):
            p.copy_(torch.from_numpy(t))
    if global_step > 0:
        for i, p in enumerate(params):
            opt.state[p] = {
                "step": torch.tensor(float(global_step), dtype=torch.float32),
                "exp_avg": torch.from_numpy(tensors[n + i]).to(device),
                "exp_avg_sq": torch.from_numpy(tensors[2 * n + i]).to(device),
            }
