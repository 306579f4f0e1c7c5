"""What the particle-sequence model can know, measured with a tree ensemble (issue 16).

The GRU models read stage 2's GRU_input: each event's particle rows standardised per event and
column (zero mean, unit std over its real rows; padding kept at zero with `padding: masked`).
That makes every momentum column scale-free: an event whose momenta are all multiplied by k
reads the same. So the particle-sequence model cannot see the absolute scales the HLF hold
(HT, MET, MT, lepton pT), only ratios, counts, angles, displacements and isolations.

This script trains sklearn's HistGradientBoostingClassifier on one features stage's train
parts and scores one-vs-rest AUCs on its test parts, for:
  hlf            the 14 HLF_input columns
  hlf_no_scale   the HLF without the 4 dimensionful ones (HT, MET, MT, LepPt)
  seq_summaries  scale-free summaries of GRU_input, as the GRU sees it (counts, the lepton's
                 row, per-column extremes and moments, displaced-row counts)
  hlf_no_scale+seq, hlf+seq

    .venv/bin/python bench/particle_information.py --train D/train-*.parquet --test D/test-*.parquet

Prints one JSON object (AUCs per feature set and class, rows, feature counts).
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import pyarrow.parquet as pq
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

FEATURES = 19
CLASS_NAMES = ["QCD", "ttbar", "W+jets"]
HLF_NAMES = ["HT", "MET", "PhiMET", "MT", "nJets", "bJets", "LepPt", "LepEta", "LepPhi", "LepIsoCh",
             "LepIsoGamma", "LepIsoNeu", "LepCharge", "LepIsEle"]
DIMENSIONFUL = ["HT", "MET", "MT", "LepPt"]


def summaries(seq: np.ndarray) -> np.ndarray:
    """Scale-free summaries of standardised particle lists (events, rows, 19), padding all-zero rows at the end."""
    real = np.any(seq != 0, axis=2)                     # (N, L)
    n = real.sum(axis=1)                                # real rows
    nf = np.maximum(n, 1)[:, None]
    last = np.maximum(n - 1, 0)
    lepton = seq[np.arange(len(seq)), last]             # sorted by descending ΔR from the lepton: it is the last real row
    masked = np.where(real[:, :, None], seq, np.nan)
    with np.errstate(all="ignore"):
        mx = np.nanmax(masked, axis=1)
        mn = np.nanmin(masked, axis=1)
        sums = np.nansum(masked, axis=1)                # 0 with per-event scaling; with dataset scaling Σ pT, Σ px, Σ py ...
        m3 = np.nansum(masked ** 3, axis=1) / nf
        m4 = np.nansum(masked ** 4, axis=1) / nf
    counts = np.stack([(seq[:, :, c] > 0).sum(axis=1) for c in (13, 14, 15)], axis=1)  # one-hot columns: ones end up positive
    displaced = np.stack([(np.abs(seq[:, :, c]) > t).sum(axis=1) for c in (7, 8, 9) for t in (3.0, 10.0)], axis=1)
    out = np.concatenate([n[:, None], counts, lepton, mx[:, :13], mn[:, :13], sums[:, :13], m3[:, :13], m4[:, :13], displaced], axis=1)
    return np.nan_to_num(out.astype(np.float32))


def load(paths: list[str]):
    hlf, seqs, labels = [], [], []
    for p in paths:
        t = pq.read_table(p, columns=["HLF_input", "GRU_input", "label"])
        h = t.column("HLF_input").combine_chunks().flatten().to_numpy().reshape(t.num_rows, -1)
        g = t.column("GRU_input").combine_chunks().flatten().to_numpy()
        seq = g.reshape(t.num_rows, -1, FEATURES)
        hlf.append(h.astype(np.float32))
        seqs.append(summaries(seq))
        labels.append(t.column("label").to_numpy().astype(np.int64))
    return np.concatenate(hlf), np.concatenate(seqs), np.concatenate(labels)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--test", nargs="+", required=True)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    h_tr, s_tr, y_tr = load(a.train)
    h_te, s_te, y_te = load(a.test)
    keep = [i for i, name in enumerate(HLF_NAMES) if name not in DIMENSIONFUL]
    sets = {
        "hlf": (h_tr, h_te),
        "hlf_no_scale": (h_tr[:, keep], h_te[:, keep]),
        "seq_summaries": (s_tr, s_te),
        "hlf_no_scale+seq": (np.hstack([h_tr[:, keep], s_tr]), np.hstack([h_te[:, keep], s_te])),
        "hlf+seq": (np.hstack([h_tr, s_tr]), np.hstack([h_te, s_te])),
    }
    result = {"train": int(len(y_tr)), "test": int(len(y_te)), "classifier": "sklearn HistGradientBoostingClassifier", "sets": {}}
    for name, (xtr, xte) in sets.items():
        clf = HistGradientBoostingClassifier(random_state=a.seed).fit(xtr, y_tr)
        p = clf.predict_proba(xte)
        result["sets"][name] = {
            "features": int(xtr.shape[1]),
            "auc": {c: round(float(roc_auc_score(y_te == i, p[:, i])), 4) for i, c in enumerate(CLASS_NAMES)},
            "accuracy": round(float(np.mean(p.argmax(axis=1) == y_te)), 4),
        }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
