#!/usr/bin/env python3
"""How separable are the generator's samples, and do the particle lists add information?

Runs the independent stage-1 reference (stage1.py, --mode fixed) on generated
ROOT files of each sample, then trains two gradient-boosted classifiers on the
selected events, with classes balanced by undersampling to the smallest one
(as the seed pipeline does) and an 80/20 split:

  hlf        the 14 high-level features only;
  particles  the 14 HLF plus summaries of the 801 x 19 particle list: track /
             photon / neutral counts, displaced-track counts, the lepton's
             wider surroundings, and per-jet constituent multiplicity, pT-weighted
             width and displaced tracks (jet axes from the Jet branch).

Prints one JSON report: events read/selected per sample, per-class one-vs-rest
test AUCs (0 = QCD, 1 = ttbar, 2 = W+jets) and accuracy for both classifiers.

Usage:
  python hlf_auc.py --qcd Q1.root [Q2.root ...] --ttbar T1.root ... --wjets W1.root ...
      [--max-per-class N] [--seed 0] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import awkward as ak
import numpy as np
import pyarrow.parquet as pq
import uproot
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, roc_auc_score

SAMPLES = {"qcd": 0, "ttbar": 1, "wjets": 2}
HERE = os.path.dirname(os.path.abspath(__file__))
NFEAT = 19
NROWS = 801
HLF_NAMES = ["HT", "MET", "PhiMET", "MT", "nJets", "bJets", "LepPt", "LepEta", "LepPhi",
             "LepIsoCh", "LepIsoGamma", "LepIsoNeu", "LepCharge", "LepIsEle"]
# Particle-list columns (seed-pipeline.md 2.3).
PT, ETA, PHI, VX, VY, IS_TRACK, IS_NEUTRAL, IS_PHOTON = 4, 5, 6, 7, 8, 13, 14, 15
MAX_JETS = 8
DISPLACED_MM = (0.1, 1.0, 10.0)
SUMMARY_NAMES = (
    ["nTracks", "nPhotons", "nNeutrals", "sumPt"]
    + [f"nDisplaced>{d}mm" for d in DISPLACED_MM]
    + ["lepTracks04", "lepPt04", "lepDisplaced04", "lepPt04to08"]
    + ["jetMultMean", "jetWidthMean", "jet1Mult", "jet1Width", "jetsWith2Displaced", "jetDisplacedMax", "softJetPt"]
)


def run_stage1(files: list[str], label: int, workdir: str) -> tuple[str, list[dict]]:
    out = os.path.join(workdir, f"stage1_{label}.parquet")
    counts = os.path.join(workdir, f"stage1_{label}.json")
    cmd = [sys.executable, os.path.join(HERE, "stage1.py"), "--mode", "fixed", "--label", str(label),
           "--out", out, "--counts", counts, *files]
    subprocess.run(cmd, check=True)
    with open(counts) as f:
        return out, json.load(f)


def read_jets(files: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """Jet PT/Eta/Phi per file, padded to MAX_JETS (PT 0 = no jet)."""
    jets = {}
    for path in files:
        tree = uproot.open(path)["Delphes"]
        arrays = tree.arrays(["Jet.PT", "Jet.Eta", "Jet.Phi"], library="ak")
        padded = {}
        for name in ("PT", "Eta", "Phi"):
            a = arrays[f"Jet.{name}"]
            padded[name] = ak.to_numpy(ak.fill_none(ak.pad_none(a, MAX_JETS, clip=True), 0.0)).astype(np.float64)
        jets[path] = padded
    return jets


def wrap(dphi: np.ndarray) -> np.ndarray:
    return (dphi + np.pi) % (2 * np.pi) - np.pi


def summaries(p: np.ndarray, jet_pt: np.ndarray, jet_eta: np.ndarray, jet_phi: np.ndarray) -> np.ndarray:
    """Per-event particle-list summaries; p is (B, 801, 19), jets (B, MAX_JETS)."""
    pt, eta, phi = p[:, :, PT], p[:, :, ETA], p[:, :, PHI]
    track = p[:, :, IS_TRACK] == 1
    photon = p[:, :, IS_PHOTON] == 1
    neutral = p[:, :, IS_NEUTRAL] == 1
    real = track | photon | neutral
    dxy = np.hypot(p[:, :, VX], p[:, :, VY])
    cols = [track.sum(1), photon.sum(1), neutral.sum(1), (pt * real).sum(1)]
    for d in DISPLACED_MM:
        cols.append((track & (dxy > d)).sum(1))
    displaced = track & (dxy > DISPLACED_MM[0])

    # The lepton (row 0): what surrounds it beyond the 0.3 isolation cone.
    dr_lep = np.hypot(eta - eta[:, :1], wrap(phi - phi[:, :1]))
    near = real & (dr_lep < 0.4)
    ring = real & (dr_lep >= 0.4) & (dr_lep < 0.8)
    lep_pt = np.maximum(pt[:, 0], 1e-9)
    cols += [(near & track).sum(1), (pt * near).sum(1) / lep_pt, (near & displaced).sum(1), (pt * ring).sum(1) / lep_pt]

    # Jets: constituents of the particle list within 0.4 of each jet axis.
    has_jet = jet_pt > 30
    dr = np.hypot(eta[:, None, :] - jet_eta[:, :, None], wrap(phi[:, None, :] - jet_phi[:, :, None]))
    inside = real[:, None, :] & (dr < 0.4) & has_jet[:, :, None]
    w = pt[:, None, :] * inside
    mult = inside.sum(2)
    width = (w * dr).sum(2) / np.maximum(w.sum(2), 1e-9)
    n_jets = np.maximum(has_jet.sum(1), 1)
    disp_in_jet = (inside & displaced[:, None, :]).sum(2)
    cols += [
        mult.sum(1) / n_jets,
        (width * has_jet).sum(1) / n_jets,
        mult[:, 0] * has_jet[:, 0],
        width[:, 0] * has_jet[:, 0],
        (disp_in_jet >= 2).sum(1),
        disp_in_jet.max(1),
        (jet_pt * ((jet_pt > 20) & (jet_pt <= 30))).sum(1),
    ]
    return np.stack(cols, axis=1).astype(np.float64)


def load(parquet: str, jets: dict[str, dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    hlf_parts, sum_parts = [], []
    reader = pq.ParquetFile(parquet)
    for batch in reader.iter_batches(batch_size=512, columns=["source_file", "entry", "hfeatures", "lfeatures"]):
        files = batch.column("source_file").to_pylist()
        entries = batch.column("entry").to_numpy()
        hlf = np.asarray(batch.column("hfeatures").flatten().to_numpy(), dtype=np.float64).reshape(-1, 14)
        parts = np.asarray(batch.column("lfeatures").flatten().to_numpy(), dtype=np.float64).reshape(-1, NROWS, NFEAT)
        jp = np.stack([jets[f]["PT"][e] for f, e in zip(files, entries)])
        je = np.stack([jets[f]["Eta"][e] for f, e in zip(files, entries)])
        jf = np.stack([jets[f]["Phi"][e] for f, e in zip(files, entries)])
        hlf_parts.append(hlf)
        sum_parts.append(summaries(parts, jp, je, jf))
    if not hlf_parts:
        return np.zeros((0, 14)), np.zeros((0, len(SUMMARY_NAMES)))
    return np.concatenate(hlf_parts), np.concatenate(sum_parts)


def evaluate(x_train, y_train, x_test, y_test, seed: int) -> dict:
    clf = HistGradientBoostingClassifier(max_iter=400, learning_rate=0.08, max_leaf_nodes=31,
                                         early_stopping=True, validation_fraction=0.1, random_state=seed)
    clf.fit(x_train, y_train)
    prob = clf.predict_proba(x_test)
    aucs = {str(c): round(float(roc_auc_score(y_test == c, prob[:, c])), 4) for c in range(3)}
    return {"auc": aucs, "accuracy": round(float(accuracy_score(y_test, prob.argmax(1))), 4), "iterations": int(clf.n_iter_)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in SAMPLES:
        ap.add_argument(f"--{name}", nargs="+", required=True, metavar="FILE.root")
    ap.add_argument("--max-per-class", type=int, default=0, help="cap on selected events per class (0 = none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", help="keep stage-1 outputs here (default: a temporary directory)")
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or tmp
        os.makedirs(workdir, exist_ok=True)
        per_class, report_samples = {}, {}
        for name, label in SAMPLES.items():
            files = [os.path.abspath(f) for f in getattr(args, name)]
            parquet, counts = run_stage1(files, label, workdir)
            hlf, summ = load(parquet, read_jets(files))
            per_class[label] = (hlf, summ)
            read = sum(c["read"] for c in counts)
            rejected = {k: sum(c["rejected"][k] for c in counts) for k in counts[0]["rejected"]}
            report_samples[name] = {"read": read, "selected": len(hlf), "efficiency": round(len(hlf) / max(read, 1), 4), "rejected": rejected}

    n = min(len(v[0]) for v in per_class.values())
    if args.max_per_class:
        n = min(n, args.max_per_class)
    xs_h, xs_p, ys = [], [], []
    for label, (hlf, summ) in per_class.items():
        pick = rng.permutation(len(hlf))[:n]
        xs_h.append(hlf[pick])
        xs_p.append(np.concatenate([hlf[pick], summ[pick]], axis=1))
        ys.append(np.full(n, label))
    x_h, x_p, y = np.concatenate(xs_h), np.concatenate(xs_p), np.concatenate(ys)
    order = rng.permutation(len(y))
    cut = int(0.8 * len(y))
    train, test = order[:cut], order[cut:]

    report = {
        "samples": report_samples,
        "balanced_per_class": int(n),
        "train": int(len(train)),
        "test": int(len(test)),
        "classifier": "sklearn HistGradientBoostingClassifier",
        "hlf": evaluate(x_h[train], y[train], x_h[test], y[test], args.seed),
        "particles": evaluate(x_p[train], y[train], x_p[test], y[test], args.seed),
        "particle_summaries": list(SUMMARY_NAMES),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
