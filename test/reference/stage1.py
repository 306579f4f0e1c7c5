#!/usr/bin/env python3
"""Independent Python reference for topoflow pipeline stage 1.

Event selection + per-event features (14 high-level features, flat
(1 + maxTracks + maxPhotons + maxNeutrals) x 19 particle list), written from
the specification in shared/reference/seed-pipeline.md section 2 and the
rules listed in test/reference/README.md (read that for the exact rules).

Usage:
  python stage1.py --mode faithful|fixed [--pt-cut 23] [--iso-cut 0.45]
      [--max-tracks 450] [--max-photons 150] [--max-neutrals 200]
      [--label N] [--chunk N] [--bench]
      --out OUT.parquet --counts OUT.json FILE.root [FILE.root ...]

Exit status: 0 on success, 2 on a usage / input error (bad file, missing
TTree or branches); the message names the file and what is missing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

PI = math.pi
TWO_PI = 2.0 * math.pi
CONE_DR = 0.3
CONE_DR2 = CONE_DR * CONE_DR  # == 0.09 exactly in float64
LEPTON_TRACK_DR = 1e-4
ETA_SENTINEL = 100.0  # |Eta| > 100 (e.g. Delphes 999.9) => particle ignored
TRACK_PT_MIN = 0.5
NEUTRAL_ET_MIN = 1.0
PHOTON_ET_MIN = 1.0
JET_PT_MIN = 30.0
JET_ABS_ETA_MAX = 2.6
NFEAT = 19
NHLF = 14

TREE = "Delphes"

# (collection, members) read by name. Counters are read separately.
COLLECTIONS = {
    "Electron": ("PT", "Eta", "Phi", "Charge"),
    "MuonTight": ("PT", "Eta", "Phi", "Charge"),
    "EFlowTrack": ("PT", "Eta", "Phi", "PID", "Charge", "X", "Y", "Z"),
    "EFlowPhoton": ("ET", "Eta", "Phi"),
    "EFlowNeutralHadron": ("ET", "Eta", "Phi"),
    "Jet": ("PT", "Eta", "Phi", "BTag"),
    "MissingET": ("MET", "Phi"),
}
COUNTERS = ("Electron_size", "MuonTight_size")
REQUIRED_BRANCHES = list(COUNTERS) + [
    f"{c}.{m}" for c, members in COLLECTIONS.items() for m in members
]

REASONS = ("no_lepton", "empty_maps", "lepton_below_pt", "not_isolated")


class InputError(Exception):
    """A problem with an input file, reported without a traceback."""


# --------------------------------------------------------------------------
# Kinematics
# --------------------------------------------------------------------------


def wrap_dphi_correct(d: np.ndarray) -> np.ndarray:
    """Wrap into [-pi, pi] with the semantics of
    `while d > pi: d -= 2pi; while d < -pi: d += 2pi`."""
    d = np.asarray(d, dtype=np.float64)
    out = d - TWO_PI * (d > PI) + TWO_PI * (d < -PI)  # exact for |d| <= 3pi
    bad = np.abs(out) > PI
    if np.any(bad):  # only for phi values far outside [-pi, pi]
        x = d[bad]
        x = np.where(x > PI, x - TWO_PI * np.ceil((x - PI) / TWO_PI), x)
        x = np.where(x < -PI, x + TWO_PI * np.ceil((-PI - x) / TWO_PI), x)
        out[bad] = x
    return out


def wrap_dphi_faithful(d: np.ndarray) -> np.ndarray:
    """The published PFIso 'wrap': threshold 2pi instead of pi (seed bug 1)."""
    return d - TWO_PI * (d > TWO_PI) + TWO_PI * (d < -TWO_PI)


def massless_p4(pt, eta, phi):
    """SetPtEtaPhiM(pt, eta, phi, 0): returns E, Px, Py, Pz (float64)."""
    apt = np.abs(pt)
    px = apt * np.cos(phi)
    py = apt * np.sin(phi)
    pz = apt * np.sinh(eta)
    e = np.sqrt(px * px + py * py + pz * pz)
    return e, px, py, pz


def pf_iso(peta, phi_p, ppt, maps, wrap):
    """Isolation of particles (arrays of length P) against the three maps.

    maps = ((eta, phi, pt) charged, (eta, phi, pt) neutral, (eta, phi, pt) photon)
    Returns (ChIso, NeuIso, GammaIso), each of length P.
    ChIso = sum/pt - 1 (subtractPt for every particle type); all three are 0
    when the particle's massless-vector Pt (|pt|) is <= 0.
    """
    P = peta.shape[0]
    if P == 0:
        z = np.zeros(0)
        return z, z, z
    sizes = [m[0].shape[0] for m in maps]
    meta = np.concatenate([m[0] for m in maps])
    mphi = np.concatenate([m[1] for m in maps])
    mpt = np.concatenate([m[2] for m in maps])
    if meta.shape[0] == 0:
        sums = [np.zeros(P)] * 3
    else:
        deta = peta[:, None] - meta[None, :]
        dphi = phi_p[:, None] - mphi[None, :]
        if wrap is wrap_dphi_faithful:
            # the 2pi-threshold "wrap" can only act when |dphi| > 2pi is possible
            if not (np.max(np.abs(phi_p)) + np.max(np.abs(mphi)) <= TWO_PI):
                dphi = wrap(dphi)
        elif np.max(np.abs(phi_p)) + np.max(np.abs(mphi)) <= 3.0 * PI:
            # correct wrap, squared: for |d| <= 3pi, wrapped d^2 == (2pi - |d|)^2 when |d| > pi
            np.abs(dphi, out=dphi)
            np.subtract(TWO_PI, dphi, out=dphi, where=dphi > PI)
        else:
            dphi = wrap(dphi)
        deta *= deta
        dphi *= dphi
        deta += dphi
        inside = (deta < CONE_DR2).astype(np.float64)
        sums = []
        start = 0
        for n in sizes:
            sums.append(inside[:, start:start + n] @ mpt[start:start + n])
            start += n
    apt = np.abs(ppt)
    ok = apt > 0
    safe = np.where(ok, apt, 1.0)
    ch = np.where(ok, sums[0] / safe - 1.0, 0.0)
    neu = np.where(ok, sums[1] / safe, 0.0)
    gam = np.where(ok, sums[2] / safe, 0.0)
    return ch, neu, gam


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def open_tree(path: str):
    import uproot

    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    try:
        f = uproot.open(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is an input error
        raise InputError(f"{path}: cannot open as a ROOT file ({exc.__class__.__name__}: {' '.join(str(exc).split())})")
    try:
        tree = f[TREE]
    except Exception:
        raise InputError(f"{path}: no TTree '{TREE}' (keys: {', '.join(f.keys()) or 'none'})")
    if not hasattr(tree, "num_entries"):
        raise InputError(f"{path}: '{TREE}' is not a TTree")
    missing = []
    for name in REQUIRED_BRANCHES:
        try:
            tree[name]
        except KeyError:
            missing.append(name)
    if missing:
        raise InputError(
            f"{path}: TTree '{TREE}' lacks {len(missing)} required branch(es): {', '.join(missing)}"
        )
    return f, tree


class Chunk:
    """Flat float64 arrays + offsets per collection for a range of entries."""

    def __init__(self, tree, start: int, stop: int):
        import awkward as ak

        self.n = stop - start
        self.counter = {}
        for name in COUNTERS:
            a = tree[name].array(entry_start=start, entry_stop=stop, library="np")
            self.counter[name] = np.asarray(a, dtype=np.int64)
        self.off = {}
        self.data = {}
        for coll, members in COLLECTIONS.items():
            offsets = None
            for m in members:
                arr = tree[f"{coll}.{m}"].array(entry_start=start, entry_stop=stop, library="ak")
                counts = np.asarray(ak.num(arr, axis=1), dtype=np.int64)
                flat = np.asarray(ak.to_numpy(ak.flatten(arr, axis=1)))
                if offsets is None:
                    offsets = np.zeros(self.n + 1, dtype=np.int64)
                    np.cumsum(counts, out=offsets[1:])
                elif offsets[-1] != flat.shape[0] or not np.array_equal(np.diff(offsets), counts):
                    raise InputError(f"{coll}.{m}: multiplicity differs from {coll}.{members[0]}")
                self.data[(coll, m)] = flat.astype(np.float64)
            self.off[coll] = offsets


# --------------------------------------------------------------------------
# Per-chunk and per-event processing
# --------------------------------------------------------------------------


class Config:
    def __init__(self, args):
        self.faithful = args.mode == "faithful"
        self.pt_cut = float(args.pt_cut)
        self.iso_cut = float(args.iso_cut)
        self.max_tracks = int(args.max_tracks)
        self.max_photons = int(args.max_photons)
        self.max_neutrals = int(args.max_neutrals)
        self.nrows = 1 + self.max_tracks + self.max_photons + self.max_neutrals
        self.wrap = wrap_dphi_faithful if self.faithful else wrap_dphi_correct


def valid_mask(eta, phi):
    return np.isfinite(eta) & np.isfinite(phi) & (np.abs(eta) <= ETA_SENTINEL)


def process_chunk(ch: Chunk, cfg: Config):
    """Yields (local_entry, reason_or_None, hfeatures, lfeatures_flat)."""
    d = ch.data
    # chunk-wide masks and four-vectors
    t_pt, t_eta, t_phi = d[("EFlowTrack", "PT")], d[("EFlowTrack", "Eta")], d[("EFlowTrack", "Phi")]
    g_et, g_eta, g_phi = d[("EFlowPhoton", "ET")], d[("EFlowPhoton", "Eta")], d[("EFlowPhoton", "Phi")]
    n_et, n_eta, n_phi = (d[("EFlowNeutralHadron", "ET")], d[("EFlowNeutralHadron", "Eta")],
                          d[("EFlowNeutralHadron", "Phi")])
    t_sel = valid_mask(t_eta, t_phi) & (t_pt > TRACK_PT_MIN)
    g_sel = valid_mask(g_eta, g_phi) & (g_et > PHOTON_ET_MIN)
    n_sel = valid_mask(n_eta, n_phi) & (n_et > NEUTRAL_ET_MIN)
    t_charge = np.sign(d[("EFlowTrack", "PID")]) if cfg.faithful else d[("EFlowTrack", "Charge")]

    e_pt, e_eta, e_phi, e_q = (d[("Electron", k)] for k in ("PT", "Eta", "Phi", "Charge"))
    m_pt, m_eta, m_phi, m_q = (d[("MuonTight", k)] for k in ("PT", "Eta", "Phi", "Charge"))
    e_cand = valid_mask(e_eta, e_phi) & (e_pt > cfg.pt_cut)
    m_cand = valid_mask(m_eta, m_phi) & (m_pt > cfg.pt_cut)

    j_pt, j_eta, j_phi, j_btag = (d[("Jet", k)] for k in ("PT", "Eta", "Phi", "BTag"))
    j_sel = valid_mask(j_eta, j_phi) & (j_pt > JET_PT_MIN) & (np.abs(j_eta) < JET_ABS_ETA_MAX)
    j_off = ch.off["Jet"]
    met_v, met_phi = d[("MissingET", "MET")], d[("MissingET", "Phi")]

    ele_size = ch.counter["Electron_size"]
    mu_size = ch.counter["MuonTight_size"]
    wrap = cfg.wrap
    nrows = cfg.nrows

    off_t, off_g, off_n = ch.off["EFlowTrack"], ch.off["EFlowPhoton"], ch.off["EFlowNeutralHadron"]
    off_e, off_m, off_met = ch.off["Electron"], ch.off["MuonTight"], ch.off["MissingET"]

    for i in range(ch.n):
        if ele_size[i] == 0 and mu_size[i] == 0:
            yield i, "no_lepton", None, None
            continue
        ts, te = off_t[i], off_t[i + 1]
        gs, ge = off_g[i], off_g[i + 1]
        ns, ne = off_n[i], off_n[i + 1]
        ti = ts + np.flatnonzero(t_sel[ts:te])
        gi = gs + np.flatnonzero(g_sel[gs:ge])
        ni = ns + np.flatnonzero(n_sel[ns:ne])
        if cfg.faithful and (ti.size == 0 or gi.size == 0 or ni.size == 0):
            yield i, "empty_maps", None, None
            continue
        es, ee = off_e[i], off_e[i + 1]
        ms, me = off_m[i], off_m[i + 1]
        ei = es + np.flatnonzero(e_cand[es:ee])
        mi = ms + np.flatnonzero(m_cand[ms:me])
        if ei.size == 0 and mi.size == 0:
            yield i, "lepton_below_pt", None, None
            continue

        maps = (
            (t_eta[ti], t_phi[ti], t_pt[ti]),
            (n_eta[ni], n_phi[ni], n_et[ni]),
            (g_eta[gi], g_phi[gi], g_et[gi]),
        )
        # isolation of all lepton candidates (electrons first, then muons)
        c_eta = np.concatenate((e_eta[ei], m_eta[mi]))
        c_phi = np.concatenate((e_phi[ei], m_phi[mi]))
        c_pt = np.concatenate((e_pt[ei], m_pt[mi]))
        c_ch, c_neu, c_gam = pf_iso(c_eta, c_phi, c_pt, maps, wrap)
        c_pass = (c_ch + c_neu + c_gam) < cfg.iso_cut
        ne_c = ei.size
        e_pass = np.flatnonzero(c_pass[:ne_c])
        m_pass = np.flatnonzero(c_pass[ne_c:]) + ne_c
        if e_pass.size == 0 and m_pass.size == 0:
            yield i, "not_isolated", None, None
            continue

        if cfg.faithful:
            be = e_pass[0] if e_pass.size else -1
            bm = m_pass[0] if m_pass.size else -1
            if be >= 0 and bm >= 0:
                chosen = be if c_eta[be] > c_eta[bm] else bm  # index 5 = Eta (seed bug 2)
            else:
                chosen = be if be >= 0 else bm
        else:
            be = e_pass[np.argmax(c_pt[e_pass])] if e_pass.size else -1
            bm = m_pass[np.argmax(c_pt[m_pass])] if m_pass.size else -1
            if be >= 0 and bm >= 0:
                chosen = be if c_pt[be] >= c_pt[bm] else bm
            else:
                chosen = be if be >= 0 else bm
        is_ele = chosen < ne_c
        l_pt, l_eta, l_phi = c_pt[chosen], c_eta[chosen], c_phi[chosen]
        l_q = e_q[ei[chosen]] if is_ele else m_q[mi[chosen - ne_c]]

        # particle list
        dphi = wrap_dphi_correct(l_phi - t_phi[ti])
        deta = l_eta - t_eta[ti]
        keep = np.sqrt(deta * deta + dphi * dphi) > LEPTON_TRACK_DR
        lt = ti[keep][: cfg.max_tracks]
        lg = gi[: cfg.max_photons]
        ln = ni[: cfg.max_neutrals]
        nt, ng, nn = lt.size, lg.size, ln.size
        p_eta = np.concatenate(([l_eta], t_eta[lt], g_eta[lg], n_eta[ln]))
        p_phi = np.concatenate(([l_phi], t_phi[lt], g_phi[lg], n_phi[ln]))
        p_pt = np.concatenate(([l_pt], t_pt[lt], g_et[lg], n_et[ln]))
        npart = p_eta.size
        # lepton isolation from selection; list particles' isolation now
        r_ch, r_neu, r_gam = pf_iso(p_eta[1:], p_phi[1:], p_pt[1:], maps, wrap)
        p_e, p_px, p_py, p_pz = massless_p4(p_pt, p_eta, p_phi)

        lf = np.zeros((nrows, NFEAT), dtype=np.float64)
        lf[:npart, 0] = p_e
        lf[:npart, 1] = p_px
        lf[:npart, 2] = p_py
        lf[:npart, 3] = p_pz
        lf[:npart, 4] = p_pt
        lf[:npart, 5] = p_eta
        lf[:npart, 6] = p_phi
        lf[0, 10] = c_ch[chosen]
        lf[0, 11] = c_gam[chosen]
        lf[0, 12] = c_neu[chosen]
        lf[1:npart, 10] = r_ch
        lf[1:npart, 11] = r_gam
        lf[1:npart, 12] = r_neu
        lf[0, 16 if is_ele else 17] = 1.0
        lf[0, 18] = l_q
        a, b = 1, 1 + nt
        lf[a:b, 7] = d[("EFlowTrack", "X")][lt]
        lf[a:b, 8] = d[("EFlowTrack", "Y")][lt]
        lf[a:b, 9] = d[("EFlowTrack", "Z")][lt]
        lf[a:b, 13] = 1.0
        lf[a:b, 18] = t_charge[lt]
        lf[b:b + ng, 15] = 1.0
        lf[b + ng:b + ng + nn, 14] = 1.0

        # high-level features
        if off_met[i + 1] > off_met[i]:
            met, phimet = met_v[off_met[i]], met_phi[off_met[i]]
        else:
            met, phimet = 0.0, 0.0
        mt = 2.0 * met * l_pt * (1.0 - math.cos(l_phi - phimet))
        if not cfg.faithful:
            mt = math.sqrt(mt) if mt >= 0 else float("nan")
        js, je = j_off[i], j_off[i + 1]
        jm = j_sel[js:je]
        ht = float(np.sum(j_pt[js:je][jm]))
        hf = [
            ht, met, phimet, mt,
            float(np.count_nonzero(jm)), float(np.count_nonzero(j_btag[js:je][jm] > 0)),
            l_pt, l_eta, l_phi,
            lf[0, 10], lf[0, 11], lf[0, 12],
            float(l_q), 1.0 if is_ele else 0.0,
        ]
        yield i, None, hf, lf.reshape(-1)


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


class Writer:
    def __init__(self, path: str, batch_rows: int = 256):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.schema = pa.schema([
            ("source_file", pa.string()),
            ("entry", pa.int64()),
            ("label", pa.int64()),
            ("hfeatures", pa.list_(pa.float64())),
            ("lfeatures", pa.list_(pa.float64())),
        ])
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd",
                                       use_dictionary=["source_file"],
                                       write_statistics=["source_file", "entry", "label"])
        self.batch_rows = batch_rows
        self.rows = []
        self.total = 0

    def add(self, source, entry, label, hf, lf):
        self.rows.append((source, entry, label, hf, lf))
        if len(self.rows) >= self.batch_rows:
            self.flush()

    def _list_col(self, arrays, width):
        pa = self.pa
        n = len(arrays)
        values = np.concatenate(arrays) if n else np.zeros(0)
        offsets = np.arange(n + 1, dtype=np.int64) * width
        if offsets[-1] >= 2**31:
            return pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(values)).cast(pa.list_(pa.float64()))
        return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values))

    def flush(self):
        pa = self.pa
        if not self.rows:
            return
        rows = self.rows
        self.rows = []
        hf = [np.asarray(r[3], dtype=np.float64) for r in rows]
        lf = [r[4] for r in rows]
        table = pa.Table.from_arrays([
            pa.array([r[0] for r in rows], pa.string()),
            pa.array([r[1] for r in rows], pa.int64()),
            pa.array([r[2] for r in rows], pa.int64()),
            self._list_col(hf, NHLF),
            self._list_col(lf, lf[0].size),
        ], schema=self.schema)
        self.writer.write_table(table)
        self.total += len(rows)

    def close(self):
        self.flush()
        self.writer.close()


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description="topoflow stage-1 Python reference (selection + features)")
    p.add_argument("--mode", required=True, choices=("faithful", "fixed"))
    p.add_argument("--pt-cut", type=float, default=23.0)
    p.add_argument("--iso-cut", type=float, default=0.45)
    p.add_argument("--max-tracks", type=int, default=450)
    p.add_argument("--max-photons", type=int, default=150)
    p.add_argument("--max-neutrals", type=int, default=200)
    p.add_argument("--label", type=int, default=-1)
    p.add_argument("--out", required=True, help="output Parquet file")
    p.add_argument("--counts", required=True, help="output counts JSON file")
    p.add_argument("--chunk", type=int, default=2000, help="entries read per uproot call")
    p.add_argument("--bench", action="store_true", help="print throughput (events/s) to stderr")
    p.add_argument("files", nargs="+", metavar="FILE.root")
    args = p.parse_args(argv)
    for k in ("max_tracks", "max_photons", "max_neutrals"):
        if getattr(args, k) < 0:
            p.error(f"--{k.replace('_', '-')} must be >= 0")
    if args.chunk < 1:
        p.error("--chunk must be >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    cfg = Config(args)
    import pyarrow.parquet  # noqa: F401  (imports are not part of --bench timing)
    import uproot  # noqa: F401

    t0 = time.perf_counter()
    # validate every input before writing anything
    opened = []
    try:
        for path in args.files:
            opened.append((path,) + open_tree(path))
    except InputError as exc:
        print(f"stage1.py: error: {exc}", file=sys.stderr)
        return 2

    counts = []
    writer = Writer(args.out)
    total_read = 0
    t_read = 0.0
    try:
        for path, _f, tree in opened:
            n = int(tree.num_entries)
            rec = {"file": path, "read": 0, "selected": 0, "rejected": {r: 0 for r in REASONS}}
            for start in range(0, n, args.chunk):
                stop = min(n, start + args.chunk)
                tr = time.perf_counter()
                chunk = Chunk(tree, start, stop)
                t_read += time.perf_counter() - tr
                for local, reason, hf, lf in process_chunk(chunk, cfg):
                    rec["read"] += 1
                    if reason is None:
                        rec["selected"] += 1
                        writer.add(path, start + local, args.label, hf, lf)
                    else:
                        rec["rejected"][reason] += 1
            assert rec["read"] == rec["selected"] + sum(rec["rejected"].values())
            counts.append(rec)
            total_read += rec["read"]
    except InputError as exc:
        print(f"stage1.py: error: {path}: {exc}", file=sys.stderr)
        return 2
    finally:
        writer.close()
    with open(args.counts, "w") as fh:
        json.dump(counts, fh, indent=2)
        fh.write("\n")
    dt = time.perf_counter() - t0
    if args.bench:
        sel = sum(c["selected"] for c in counts)
        print(
            f"stage1.py bench: mode={args.mode} events={total_read} selected={sel} "
            f"wall={dt:.3f}s read={t_read:.3f}s events/s={total_read / dt if dt > 0 else float('inf'):.1f}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
