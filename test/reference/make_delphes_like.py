#!/usr/bin/env python3
"""Write small Delphes-like ROOT files (TTree `Delphes`) full of stage-1 edge cases.

Usage:
  python make_delphes_like.py --out FILE.root [--events 2000] [--seed 1]
      [--basket 500] [--summary SUMMARY.json]

Layout (uproot `mktree` with counter_name=c+"_size", field_name=o+"."+i, so a
collection X gives `X_size` (int32) and `X.Member[X_size]` branches):
  Electron, MuonTight      {PT F, Eta F, Phi F, T F, Charge I}
  EFlowTrack               {PID I, Charge I, PT F, Eta F, Phi F, X F, Y F, Z F}
  EFlowPhoton, EFlowNeutralHadron {ET F, Eta F, Phi F, E F}
  Jet                      {PT F, Eta F, Phi F, Mass F, BTag uint32}
  MissingET                {MET F, Eta F, Phi F}

Every event has a random "background" (tracks with PT partly below 0.5,
photons / neutral hadrons with ET partly below 1, jets, one MissingET), with
the space around every lepton meant to be isolated kept clear (dR < 0.45).
Each event then gets ONE primary category, and independent "sprinkles".
The first 2 x (number of categories) events cycle through all categories, the
rest draw them at random, so every category appears many times in a
2,000-event file (the generator prints the tally).

Primary categories (name: content -> expected outcome; F = faithful, X = fixed)
  no_lepton          Electron_size = MuonTight_size = 0 -> no_lepton (both)
  below_pt           leptons with PT <= 23 only (incl. PT exactly 23.0 and
                     leptons with PT 50 but Eta = 999.9 sentinel)
                     -> lepton_below_pt (both)
  just_above_pt      an isolated electron with PT = next float32 above 23
                     -> selected (both)
  not_isolated       PT > 23 leptons with cone activity ~0.8 x PT
                     (one flavour may also be below 23) -> not_isolated (both)
  single_ele         one isolated electron (+ its own track) -> selected
  single_mu          one isolated muon (+ its own track) -> selected
  e_mu_eta_vs_pt     isolated e AND mu; pT order and Eta order disagree:
                     F picks by Eta (bug), X by pT -> different lepton
  e_mu_tie           isolated e and mu with equal PT (X -> electron) or
                     equal Eta (F -> muon, since Eta_e > Eta_mu is false)
  multi_ele_order    several passing electrons (some non-isolated) not in pT
                     order -> F takes the first passing, X the highest pT
  multi_mu_order     same for MuonTight
  phi_wrap_cut       lepton at |phi| ~ pi - 0.05 with 0.8 x PT of activity
                     across phi = +-pi -> F selected (cone truncated by the
                     2pi bug), X not_isolated
  phi_wrap_iso       same with 0.2 x PT across the boundary -> both selected,
                     isolation values differ between modes
  phi_wrap_choice    straddling non-isolated(X) electron + isolated muon:
                     F may choose the electron, X the muon
  track_at_lepton    tracks with dR(lepton, track) = 0, ~5e-5 (skipped) and
                     ~3e-4 (kept), also across phi = +-pi (wrapped dR ~4e-5:
                     skipped in both modes)
  overflow           > 450 tracks with PT > 0.5 (sub-threshold ones
                     interleaved; the lepton's own track inside the first
                     450), > 150 photons, > 200 neutral hadrons with ET > 1
  empty_photons      EFlowPhoton empty -> F empty_maps, X selected
  empty_neutral_map  EFlowNeutralHadron non-empty but all ET <= 1 (incl. 1.0)
                     -> F empty_maps, X selected
  empty_track_map    EFlowTrack only PT <= 0.5 / sentinels -> F empty_maps,
                     X selected (lepton ChIso = -1)
  empty_all          all three EFlow collections empty -> F empty_maps, X selected
  sentinel_lepton    an isolated electron with Eta 999.9 or Phi NaN plus an
                     isolated muon -> the sentinel is ignored, muon chosen
Sprinkles (independent, any category)
  sentinel_tracks (40 %)  EFlowTrack entries PT = 0, Eta = 999.9, Phi = 0 and a
                          few with PT 3 and Eta = +-999.9 (must be ignored)
  sentinel_other (15 %)   photon with Phi = NaN, neutral with Eta = inf /
                          -999.9, jets with Eta 999.9 or Phi NaN and PT 50
  jet_edges (35 %)        jets with PT exactly 30 (out), next float32 above 30
                          (in), Eta = +-2.6 as float32 (= 2.5999999, in), the
                          next float32 above 2.6 (out); BTag 0 / 1 / 2
  phi_pi (10 %, not in empty_*)  particles at phi = +-float32(pi) (|phi| slightly > pi)
  met_empty (6 %)         MissingET collection empty (MET = PhiMET = 0)
  negative PIDs are everywhere: PID in {+-211, +-321, +-2212, +-11, +-13} with
  the physical Charge (e-/mu- have PID +11/+13 and Charge -1, so sign(PID)
  and Charge disagree for them).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

PI = math.pi
F32_PI = float(np.float32(math.pi))  # 3.1415927 > pi


def f32(x):
    return float(np.float32(x))


def f32_next_up(x):
    return float(np.nextafter(np.float32(x), np.float32(np.inf)))


def dphi(a, b):
    d = a - b
    while d > PI:
        d -= 2 * PI
    while d < -PI:
        d += 2 * PI
    return d


def wrap_phi(p):
    return dphi(p, 0.0)


SCHEMA = {
    "Electron": [("PT", "float32"), ("Eta", "float32"), ("Phi", "float32"), ("T", "float32"),
                 ("Charge", "int32")],
    "MuonTight": [("PT", "float32"), ("Eta", "float32"), ("Phi", "float32"), ("T", "float32"),
                  ("Charge", "int32")],
    "EFlowTrack": [("PID", "int32"), ("Charge", "int32"), ("PT", "float32"), ("Eta", "float32"),
                   ("Phi", "float32"), ("X", "float32"), ("Y", "float32"), ("Z", "float32")],
    "EFlowPhoton": [("ET", "float32"), ("Eta", "float32"), ("Phi", "float32"), ("E", "float32")],
    "EFlowNeutralHadron": [("ET", "float32"), ("Eta", "float32"), ("Phi", "float32"),
                           ("E", "float32")],
    "Jet": [("PT", "float32"), ("Eta", "float32"), ("Phi", "float32"), ("Mass", "float32"),
            ("BTag", "uint32")],
    "MissingET": [("MET", "float32"), ("Eta", "float32"), ("Phi", "float32")],
}

HADRON_PIDS = [211, -211, 321, -321, 2212, -2212]
LEPTON_PIDS = [11, -11, 13, -13]


def physical_charge(pid):
    if abs(pid) in (11, 13):
        return -1 if pid > 0 else 1
    return 1 if pid > 0 else -1


class Event:
    def __init__(self, rng):
        self.rng = rng
        self.c = {k: [] for k in SCHEMA}
        self.protect = []  # (eta, phi): keep background out of dR < 0.45
        self.no_background = set()
        self.bg_scale = None  # (n_tracks, n_photons, n_neutrals) override
        self.neutral_et_max = None
        self.track_pt_max = None

    # ---- adders (values are stored as float32 by the writer) ----
    def ele(self, pt, eta, phi, q=None):
        q = q if q is not None else int(self.rng.choice([-1, 1]))
        self.c["Electron"].append((pt, eta, phi, 0.0, q))
        return q

    def mu(self, pt, eta, phi, q=None):
        q = q if q is not None else int(self.rng.choice([-1, 1]))
        self.c["MuonTight"].append((pt, eta, phi, 0.0, q))
        return q

    def track(self, pt, eta, phi, pid=None, x=None, y=None, z=None, at=None):
        rng = self.rng
        if pid is None:
            pid = int(rng.choice(HADRON_PIDS + LEPTON_PIDS, p=[0.2, 0.2, 0.1, 0.1, 0.1, 0.1,
                                                               0.05, 0.05, 0.05, 0.05]))
        x = rng.normal(0, 0.02) if x is None else x
        y = rng.normal(0, 0.02) if y is None else y
        z = rng.normal(0, 40.0) if z is None else z
        row = (pid, physical_charge(pid), pt, eta, phi, x, y, z)
        if at is None:
            self.c["EFlowTrack"].append(row)
        else:
            self.c["EFlowTrack"].insert(at, row)

    def lepton_track(self, pt, eta, phi, flavour, q):
        pid = (11 if flavour == "e" else 13) * (1 if q < 0 else -1)
        self.track(pt, eta, phi, pid=pid)

    def photon(self, et, eta, phi):
        self.c["EFlowPhoton"].append((et, eta, phi, abs(et) * math.cosh(eta) if abs(eta) < 50 else 0.0))

    def neutral(self, et, eta, phi):
        self.c["EFlowNeutralHadron"].append((et, eta, phi, abs(et) * math.cosh(eta) if abs(eta) < 50 else 0.0))

    def jet(self, pt, eta, phi, btag, mass=10.0):
        self.c["Jet"].append((pt, eta, phi, mass, btag))

    def activity(self, eta, phi, total, n=4, across_pi=False):
        """Put `total` GeV of tracks/photons/neutrals at 0.05 < dR < 0.25.

        across_pi: place it on the other side of phi = +-pi from `phi`."""
        rng = self.rng
        parts = rng.dirichlet(np.ones(n)) * total
        for k, e in enumerate(parts):
            r = rng.uniform(0.05, 0.22)
            a = rng.uniform(0, 2 * PI)
            de, dp = r * math.cos(a), r * math.sin(a)
            if across_pi:
                # other side of phi = +-pi: true |dphi| = gap + [0.02, 0.12] <= 0.2
                gap = PI - abs(phi)  # distance from the lepton to the boundary
                t = gap + rng.uniform(0.02, 0.12)
                p = -math.copysign(PI - (t - gap), phi)
                de = rng.uniform(-0.1, 0.1)
            else:
                p = wrap_phi(phi + dp)
            kind = k % 3
            e = max(float(e), 1.2)
            if kind == 0:
                self.track(e, eta + de, p)
            elif kind == 1:
                self.photon(e, eta + de, p)
            else:
                self.neutral(e, eta + de, p)

    # ---- background ----
    def background(self):
        rng = self.rng
        nt, ng, nn = self.bg_scale or (int(rng.integers(8, 90)), int(rng.integers(3, 45)),
                                       int(rng.integers(2, 30)))

        def clear(eta, phi):
            for (le, lp) in self.protect:
                if (eta - le) ** 2 + dphi(phi, lp) ** 2 < 0.45 ** 2:
                    return False
            return True

        def pos(spread):
            while True:
                eta, phi = rng.uniform(-spread, spread), rng.uniform(-PI, PI)
                if clear(eta, phi):
                    return eta, phi

        if "tracks" not in self.no_background:
            for _ in range(nt):
                eta, phi = pos(2.5)
                pt = 0.15 + rng.exponential(1.6)
                if self.track_pt_max is not None:
                    pt = min(pt, self.track_pt_max)
                self.track(pt, eta, phi)
        if "photons" not in self.no_background:
            for _ in range(ng):
                eta, phi = pos(3.0)
                self.photon(0.3 + rng.exponential(2.0), eta, phi)
        if "neutrals" not in self.no_background:
            for _ in range(nn):
                eta, phi = pos(4.0)
                et = 0.3 + rng.exponential(2.5)
                if self.neutral_et_max is not None:
                    et = min(et, self.neutral_et_max)
                self.neutral(et, eta, phi)
        # shuffle background particles so category particles are not always first
        for k in ("EFlowTrack", "EFlowPhoton", "EFlowNeutralHadron"):
            if self.c[k] and rng.random() < 0.7:
                order = rng.permutation(len(self.c[k]))
                self.c[k] = [self.c[k][j] for j in order]
        for _ in range(int(rng.integers(0, 8))):
            self.jet(15 + rng.exponential(35), rng.uniform(-4, 4), rng.uniform(-PI, PI),
                     int(rng.random() < 0.25))
        if not getattr(self, "met_empty", False):
            self.c["MissingET"].append((rng.exponential(35), 0.0, rng.uniform(-PI, PI)))


# --------------------------------------------------------------------------
# Categories. Each takes (ev, rng) and adds leptons / special particles.
# Leptons must be added before ev.background() is called (protect list).
# --------------------------------------------------------------------------


def rand_pos(rng, spread=2.3, phi_margin=0.0):
    return rng.uniform(-spread, spread), rng.uniform(-PI + phi_margin, PI - phi_margin)


def iso_ele(ev, rng, pt=None, eta=None, phi=None, own_track=True, q=None):
    pt = pt if pt is not None else 25 + rng.exponential(30)
    e0, p0 = rand_pos(rng, phi_margin=0.5)
    eta = e0 if eta is None else eta
    phi = p0 if phi is None else phi
    q = ev.ele(pt, eta, phi, q)
    ev.protect.append((eta, phi))
    if own_track:
        ev.lepton_track(pt, eta, phi, "e", q)
    return pt, eta, phi


def iso_mu(ev, rng, pt=None, eta=None, phi=None, own_track=True, q=None):
    pt = pt if pt is not None else 25 + rng.exponential(30)
    e0, p0 = rand_pos(rng, phi_margin=0.5)
    eta = e0 if eta is None else eta
    phi = p0 if phi is None else phi
    q = ev.mu(pt, eta, phi, q)
    ev.protect.append((eta, phi))
    if own_track:
        ev.lepton_track(pt, eta, phi, "mu", q)
    return pt, eta, phi


def cat_no_lepton(ev, rng):
    pass


def cat_below_pt(ev, rng):
    choice = rng.integers(0, 4)
    if choice == 0:
        ev.ele(23.0, *rand_pos(rng))
    elif choice == 1:
        ev.mu(23.0, *rand_pos(rng))
        ev.ele(rng.uniform(5, 22.9), *rand_pos(rng))
    elif choice == 2:
        for _ in range(int(rng.integers(1, 4))):
            ev.mu(rng.uniform(3, 23.0), *rand_pos(rng))
    else:
        ev.ele(50.0, 999.9, rng.uniform(-PI, PI))  # sentinel: ignored
        ev.mu(rng.uniform(10, 22), *rand_pos(rng))


def cat_just_above_pt(ev, rng):
    iso_ele(ev, rng, pt=f32_next_up(23.0))


def cat_not_isolated(ev, rng):
    pt, eta, phi = iso_ele(ev, rng) if rng.random() < 0.5 else iso_mu(ev, rng)
    ev.activity(eta, phi, 0.8 * pt, n=5)
    if rng.random() < 0.5:
        ev.mu(rng.uniform(5, 23), *rand_pos(rng))  # other flavour below pT


def cat_single_ele(ev, rng):
    iso_ele(ev, rng, own_track=rng.random() < 0.8)


def cat_single_mu(ev, rng):
    iso_mu(ev, rng, own_track=rng.random() < 0.8)


def cat_e_mu_eta_vs_pt(ev, rng):
    if rng.random() < 0.5:  # e: higher pT, lower Eta
        iso_ele(ev, rng, pt=rng.uniform(50, 90), eta=rng.uniform(-2.0, -0.5))
        iso_mu(ev, rng, pt=rng.uniform(26, 45), eta=rng.uniform(0.0, 2.0))
    else:  # mu: higher pT, lower Eta
        iso_mu(ev, rng, pt=rng.uniform(50, 90), eta=rng.uniform(-2.0, -0.5))
        iso_ele(ev, rng, pt=rng.uniform(26, 45), eta=rng.uniform(0.0, 2.0))


def cat_e_mu_tie(ev, rng):
    if rng.random() < 0.5:
        pt = f32(rng.uniform(30, 60))
        iso_ele(ev, rng, pt=pt, eta=rng.uniform(-2, -0.2))
        iso_mu(ev, rng, pt=pt, eta=rng.uniform(0.2, 2))
    else:
        eta = f32(rng.uniform(-2, 2))
        iso_ele(ev, rng, pt=rng.uniform(30, 60), eta=eta, phi=rng.uniform(-2.5, -0.5))
        iso_mu(ev, rng, pt=rng.uniform(30, 60), eta=eta, phi=rng.uniform(0.5, 2.5))


def _multi(ev, rng, add):
    # passing leptons in non-pT order, optionally a non-isolated one first
    n = int(rng.integers(2, 5))
    pts = sorted(rng.uniform(26, 120, size=n))
    order = rng.permutation(n)
    if order[0] == n - 1:  # make sure the first is not the highest pT
        order = np.roll(order, 1)
    first_noniso = rng.random() < 0.5
    for k, j in enumerate(order):
        pt = pts[j]
        if k == 0 and first_noniso:
            _, eta, phi = add(ev, rng, pt=pt)
            ev.activity(eta, phi, 0.9 * pt, n=4)
        else:
            add(ev, rng, pt=pt)


def cat_multi_ele_order(ev, rng):
    _multi(ev, rng, iso_ele)


def cat_multi_mu_order(ev, rng):
    _multi(ev, rng, iso_mu)


def _straddle(ev, rng, frac, flavour):
    side = 1 if rng.random() < 0.5 else -1
    phi = side * (PI - rng.uniform(0.02, 0.08))
    add = iso_ele if flavour == "e" else iso_mu
    pt, eta, phi = add(ev, rng, phi=phi)
    ev.activity(eta, phi, frac * pt, n=4, across_pi=True)
    return pt, eta, phi


def cat_phi_wrap_cut(ev, rng):
    _straddle(ev, rng, 0.8, "e" if rng.random() < 0.5 else "mu")


def cat_phi_wrap_iso(ev, rng):
    _straddle(ev, rng, 0.2, "e" if rng.random() < 0.5 else "mu")


def cat_phi_wrap_choice(ev, rng):
    side = 1 if rng.random() < 0.5 else -1
    phi = side * (PI - rng.uniform(0.02, 0.08))
    pt, eta, phi = iso_ele(ev, rng, pt=rng.uniform(40, 80), eta=rng.uniform(0.5, 2.0), phi=phi)
    ev.activity(eta, phi, 0.8 * pt, n=4, across_pi=True)
    iso_mu(ev, rng, pt=rng.uniform(30, 80), eta=rng.uniform(-2.0, 0.0), phi=rng.uniform(-1.5, 1.5))


def cat_track_at_lepton(ev, rng):
    if rng.random() < 0.5:
        pt, eta, phi = iso_ele(ev, rng)  # includes the dR = 0 own track
        ev.track(rng.uniform(1, 3), f32(eta) + 5e-5, phi)  # dR 5e-5: skipped
        ev.track(rng.uniform(1, 3), f32(eta), f32(phi) - 3e-4)  # dR 3e-4: kept
        ev.track(rng.uniform(1, 3), f32(eta) - 7e-5, f32(phi) + 5e-5)  # dR ~8.6e-5: skipped
    else:
        side = 1 if rng.random() < 0.5 else -1
        phi = side * (PI - 2e-5)
        pt, eta, phi = iso_mu(ev, rng, phi=phi)
        ev.track(rng.uniform(1, 3), eta, -side * (PI - 2e-5))  # wrapped dR ~4e-5: skipped
        ev.track(rng.uniform(1, 3), eta, -side * (PI - 3e-4))  # wrapped dR ~3.2e-4: kept
        ev.track(rng.uniform(1, 3), eta, -side * F32_PI)  # across pi, dR ~2e-5: skipped


def cat_overflow(ev, rng):
    # ~80 % of tracks have PT > 0.5, ~70 % of photons / ~76 % of neutrals ET > 1
    ev.bg_scale = (int(rng.integers(620, 720)), int(rng.integers(240, 300)),
                   int(rng.integers(290, 350)))
    pt, eta, phi = iso_ele(ev, rng, own_track=False) if rng.random() < 0.5 else \
        iso_mu(ev, rng, own_track=False)
    ev._own = (pt, eta, phi)


def cat_empty_photons(ev, rng):
    iso_ele(ev, rng) if rng.random() < 0.5 else iso_mu(ev, rng)
    ev.no_background.add("photons")


def cat_empty_neutral_map(ev, rng):
    iso_ele(ev, rng) if rng.random() < 0.5 else iso_mu(ev, rng)
    ev.neutral_et_max = 1.0
    ev.neutral(1.0, *rand_pos(rng))


def cat_empty_track_map(ev, rng):
    iso_mu(ev, rng, own_track=False) if rng.random() < 0.5 else iso_ele(ev, rng, own_track=False)
    ev.track_pt_max = 0.5
    ev.track(0.5, *rand_pos(rng))
    ev.track(0.0, 999.9, 0.0)


def cat_empty_all(ev, rng):
    iso_ele(ev, rng, own_track=False) if rng.random() < 0.5 else iso_mu(ev, rng, own_track=False)
    ev.no_background.update({"tracks", "photons", "neutrals"})


def cat_sentinel_lepton(ev, rng):
    if rng.random() < 0.5:
        ev.ele(60.0, 999.9, rng.uniform(-PI, PI))
    else:
        ev.ele(60.0, rng.uniform(-2, 2), float("nan"))
    iso_mu(ev, rng, pt=rng.uniform(25, 40), eta=rng.uniform(-2, 2))


CATEGORIES = [
    ("no_lepton", cat_no_lepton, 3),
    ("below_pt", cat_below_pt, 3),
    ("just_above_pt", cat_just_above_pt, 1),
    ("not_isolated", cat_not_isolated, 3),
    ("single_ele", cat_single_ele, 4),
    ("single_mu", cat_single_mu, 4),
    ("e_mu_eta_vs_pt", cat_e_mu_eta_vs_pt, 2),
    ("e_mu_tie", cat_e_mu_tie, 1),
    ("multi_ele_order", cat_multi_ele_order, 2),
    ("multi_mu_order", cat_multi_mu_order, 2),
    ("phi_wrap_cut", cat_phi_wrap_cut, 2),
    ("phi_wrap_iso", cat_phi_wrap_iso, 2),
    ("phi_wrap_choice", cat_phi_wrap_choice, 1),
    ("track_at_lepton", cat_track_at_lepton, 2),
    ("overflow", cat_overflow, 1),
    ("empty_photons", cat_empty_photons, 1),
    ("empty_neutral_map", cat_empty_neutral_map, 1),
    ("empty_track_map", cat_empty_track_map, 1),
    ("empty_all", cat_empty_all, 1),
    ("sentinel_lepton", cat_sentinel_lepton, 1),
]


def sprinkle(ev, rng, tally, name):
    if rng.random() < 0.40:
        tally["sentinel_tracks"] += 1
        for _ in range(int(rng.integers(1, 4))):
            ev.track(0.0, 999.9, 0.0, pid=int(rng.choice([211, -211])), x=0.0, y=0.0, z=0.0,
                     at=int(rng.integers(0, len(ev.c["EFlowTrack"]) + 1)))
        ev.track(3.0, float(rng.choice([999.9, -999.9])), rng.uniform(-PI, PI),
                 at=int(rng.integers(0, len(ev.c["EFlowTrack"]) + 1)))
    if rng.random() < 0.15:
        tally["sentinel_other"] += 1
        ev.photon(5.0, rng.uniform(-2, 2), float("nan"))
        ev.neutral(4.0, float("inf"), 0.5)
        ev.neutral(4.0, -999.9, -0.5)
        ev.jet(50.0, 999.9, 0.3, 1)
        ev.jet(50.0, 0.4, float("nan"), 1)
    if rng.random() < 0.35:
        tally["jet_edges"] += 1
        ph = lambda: rng.uniform(-PI, PI)  # noqa: E731
        ev.jet(30.0, rng.uniform(-2, 2), ph(), 1)  # PT not > 30: out
        ev.jet(f32_next_up(30.0), rng.uniform(-2, 2), ph(), int(rng.integers(0, 3)))  # in
        ev.jet(40.0, 2.6, ph(), 0)  # float32(2.6) < 2.6: in
        ev.jet(41.0, -2.6, ph(), 2)  # in, BTag 2 > 0
        ev.jet(42.0, f32_next_up(2.6), ph(), 1)  # out
    if rng.random() < 0.10 and not name.startswith("empty_"):
        tally["phi_pi"] += 1
        ev.track(2.0, rng.uniform(-1, 1), F32_PI)
        ev.track(2.5, rng.uniform(-1, 1), -F32_PI)
        ev.photon(3.0, rng.uniform(-1, 1), F32_PI)
        ev.neutral(3.0, rng.uniform(-1, 1), -F32_PI)


def make_events(n, seed):
    rng = np.random.default_rng(seed)
    names = [c[0] for c in CATEGORIES]
    weights = np.array([c[2] for c in CATEGORIES], dtype=float)
    weights /= weights.sum()
    tally = {k: 0 for k in names}
    tally.update({"sentinel_tracks": 0, "sentinel_other": 0, "jet_edges": 0, "phi_pi": 0,
                  "met_empty": 0})
    events = []
    cats = []
    ncat = len(CATEGORIES)
    for i in range(n):
        k = i % ncat if i < 2 * ncat else int(rng.choice(ncat, p=weights))
        name, fn, _ = CATEGORIES[k]
        ev = Event(rng)
        ev.met_empty = rng.random() < 0.06
        if ev.met_empty:
            tally["met_empty"] += 1
        fn(ev, rng)
        ev.background()
        if name == "overflow":
            # the lepton's own track at a random position inside the first 450
            pt, eta, phi = ev._own
            pid = 11 if ev.c["Electron"] else 13
            ev.track(pt, eta, phi, pid=pid, at=int(rng.integers(0, 440)))
            # sub-threshold tracks interleaved
            for _ in range(60):
                ev.track(rng.uniform(0.05, 0.5), rng.uniform(-2.5, 2.5), rng.uniform(-PI, PI),
                         at=int(rng.integers(0, len(ev.c["EFlowTrack"]))))
        sprinkle(ev, rng, tally, name)
        tally[name] += 1
        events.append(ev)
        cats.append(name)
    return events, tally, cats


def to_arrays(events):
    import awkward as ak

    out = {}
    for coll, fields in SCHEMA.items():
        counts = np.array([len(ev.c[coll]) for ev in events], dtype=np.int64)
        rows = [r for ev in events for r in ev.c[coll]]
        cols = {}
        for j, (fname, dtype) in enumerate(fields):
            flat = np.array([r[j] for r in rows], dtype=np.float64 if dtype.startswith("float") else np.int64)
            flat = flat.astype(dtype)
            cols[fname] = ak.unflatten(flat, counts)
        out[coll] = ak.zip(cols)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description="write a Delphes-like ROOT file with stage-1 edge cases")
    p.add_argument("--out", required=True)
    p.add_argument("--events", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--basket", type=int, default=500, help="events per TTree.extend call")
    p.add_argument("--summary", help="write the tally and each entry's primary category as JSON here")
    args = p.parse_args(argv)

    import uproot

    events, tally, cats = make_events(args.events, args.seed)
    branch_types = {
        coll: "var * {" + ", ".join(f"{f}: {t}" for f, t in fields) + "}"
        for coll, fields in SCHEMA.items()
    }
    with uproot.recreate(args.out) as f:
        tree = f.mktree("Delphes", branch_types, counter_name=lambda c: c + "_size",
                        field_name=lambda o, i: o + "." + i)
        for s in range(0, len(events), args.basket):
            tree.extend(to_arrays(events[s:s + args.basket]))
    text = json.dumps({"file": args.out, "events": args.events, "seed": args.seed, "tally": tally},
                      indent=2)
    if args.summary:  # tally + the primary category of every entry
        with open(args.summary, "w") as fh:
            json.dump({"file": args.out, "events": args.events, "seed": args.seed, "tally": tally,
                       "categories": cats}, fh)
            fh.write("\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
