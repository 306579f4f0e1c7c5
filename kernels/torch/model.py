"""The model spec (ml/modelSpec.ts, as pipelines.yaml declares it) compiled to
PyTorch modules: dense, dropout, masking, GRU, LSTM. Branches run side by side
(particles first, then hlf), their outputs are concatenated, then `layers`.

Masking(0) on trailing padding (the features stage's masked mode) becomes
packed sequences: each event's GRU/LSTM runs over its real rows only, as
Keras' Masking does; an event with no real row gives a zero vector (Keras
returns the initial state). Without a masking layer the recurrent layer reads
every row. torch's GRU is the `reset_after` formulation with two bias vectors
(as Keras 2+), and its LSTM has two bias vectors too, so parameter counts
differ from the TensorFlow.js back ends (see the README).

Initial weights are seeded per layer: Glorot-uniform kernels, orthogonal
recurrent kernels, zero biases, LSTM forget-gate bias 1 (as Keras)."""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

HLF_FEATURES = 14
PARTICLE_FEATURES = 19
ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda x: x}


class SpecError(Exception):
    pass


def layer_kind(layer: dict) -> str:
    for kind in ("dense", "dropout", "masking", "gru", "lstm"):
        if kind in layer:
            return kind
    raise SpecError(f"unknown layer {layer!r}")


def mix_seed(seed: int, index: int) -> int:
    """ml/build.ts's per-layer seed (31 bits) from the model seed and the layer's index."""
    m = 0xFFFFFFFF
    h = (((seed & m) ^ 0x9E3779B9) * 0x85EBCA6B) & m
    h ^= ((index + 1) * 0xC2B2AE35) & m
    h = ((h ^ (h >> 16)) * 0x7FEB352D) & m
    return (h ^ (h >> 15)) & 0x7FFFFFFF


class Dense(nn.Module):
    def __init__(self, inputs: int, units: int, activation: str) -> None:
        super().__init__()
        self.linear = nn.Linear(inputs, units)
        self.activation = activation
        nn.init.xavier_uniform_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, x):
        y = self.linear(x)
        # softmax is applied by the classifier (probabilities and a clipped log)
        return y if self.activation == "softmax" else ACTIVATIONS[self.activation](y)


class Recurrent(nn.Module):
    def __init__(self, kind: str, inputs: int, units: int) -> None:
        super().__init__()
        cls = nn.GRU if kind == "gru" else nn.LSTM
        self.rnn = cls(inputs, units, batch_first=True)
        gates = 3 if kind == "gru" else 4
        for name, p in self.rnn.named_parameters():
            if name.startswith("weight_ih"):
                # Keras' kernel is (inputs, gates * units): Glorot over the whole matrix
                nn.init.xavier_uniform_(p)
            elif name.startswith("weight_hh"):
                # Keras' recurrent kernel is (units, gates * units): orthogonal over the whole matrix
                with torch.no_grad():
                    q = torch.empty(units, gates * units)
                    nn.init.orthogonal_(q)
                    p.copy_(q.t())
            else:
                nn.init.zeros_(p)
        if kind == "lstm":
            with torch.no_grad():
                self.rnn.bias_ih_l0[units : 2 * units] = 1.0  # unit forget bias (torch gate order i, f, g, o)

    def forward(self, x, lengths):
        if lengths is None:
            _, h = self.rnn(x)
        else:
            packed = pack_padded_sequence(x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
            _, h = self.rnn(packed)
        h = h[0] if isinstance(h, tuple) else h
        out = h[-1]
        if lengths is not None:
            out = out * (lengths > 0).to(out.dtype).unsqueeze(1)
        return out


class Branch(nn.Module):
    def __init__(self, name: str, layers: list, width: int, sequence: bool, next_index) -> None:
        super().__init__()
        self.masked = False
        self.mods = nn.ModuleList()
        self.kinds = []
        self.names = []
        for i, layer in enumerate(layers):
            kind = layer_kind(layer)
            torch.manual_seed(mix_seed(next_index.seed, next_index()))
            if kind == "masking":
                if layer["masking"] != 0:
                    raise SpecError(f"{name}[{i}]: the torch back end masks zero padding only (masking: 0), not {layer['masking']}")
                self.masked = True
                continue
            if kind == "dense":
                mod = Dense(width, layer["dense"], layer.get("activation", "linear"))
                width = layer["dense"]
            elif kind == "dropout":
                mod = nn.Dropout(layer["dropout"])
            else:
                if kind == "gru" and layer.get("recurrentActivation", "sigmoid") != "sigmoid":
                    raise SpecError(f"{name}[{i}]: torch's GRU has sigmoid gates only, not recurrentActivation {layer['recurrentActivation']}")
                mod = Recurrent(kind, width, layer[kind])
                width = layer[kind]
                sequence = False
            self.mods.append(mod)
            self.kinds.append(kind)
            self.names.append(f"{name}_{i}_{kind}")
        self.width = width

    def forward(self, x, lengths):
        for mod, kind in zip(self.mods, self.kinds):
            x = mod(x, lengths if self.masked else None) if kind in ("gru", "lstm") else mod(x)
        return x


class _Counter:
    def __init__(self, seed: int) -> None:
        self.seed, self.n = seed, 0

    def __call__(self) -> int:
        self.n += 1
        return self.n - 1


class Classifier(nn.Module):
    def __init__(self, spec: dict, seed: int) -> None:
        super().__init__()
        counter = _Counter(seed)
        branches = spec.get("branches") or {spec["input"]: []}
        self.inputs = [i for i in ("particles", "hlf") if i in branches]
        self.branches = nn.ModuleDict()
        width = 0
        for name in self.inputs:
            features = PARTICLE_FEATURES if name == "particles" else HLF_FEATURES
            layers = branches[name] if spec.get("branches") else []
            branch = Branch(name, layers, features, name == "particles", counter)
            self.branches[name] = branch
            width += branch.width
        self.head = Branch("layers", spec["layers"], width, spec.get("input") == "particles", counter)
        if spec.get("input"):
            # single-input model: `layers` apply to the input itself
            self.head.masked = self.head.masked or self.branches[spec["input"]].masked

    @property
    def masked(self) -> bool:
        return any(b.masked for b in self.branches.values()) or self.head.masked

    def forward(self, hlf, particles, lengths):
        outs = [self.branches[name](particles if name == "particles" else hlf, lengths) for name in self.inputs]
        x = outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)
        return self.head(x, lengths)  # logits (the last layer is dense 3 with softmax)

    def named_weights(self) -> list:
        """(name, tensor) in a fixed order, named after the spec's places: `particles_1_gru/weight_ih_l0`."""
        out = []
        for branch in list(self.branches.values()) + [self.head]:
            for mod, name in zip(branch.mods, branch.names):
                for pname, p in mod.named_parameters():
                    out.append((f"{name}/{pname.split('.')[-1]}", p))
        return out
