/**
 * readDelphesEvents: the stage-1 branches of a Delphes TTree as one
 * DelphesEvent per entry. The Delphes event model lives here, in hep/; root/
 * knows ROOT files and TTrees, not experiments.
 */
import { RootReadError, type BranchValues, type EntryRange, type RootFile } from '../root/read/index.js';
import { INGEST_BRANCHES, type DelphesEvent } from './event.js';

export const DELPHES_TREE = 'Delphes';

const B = INGEST_BRANCHES;

/** Every member branch a DelphesEvent is filled from (not the `_size` counters: the arrays carry their length). */
export const DELPHES_EVENT_BRANCHES: readonly string[] = Object.values(B).flatMap((collection) =>
  Object.entries(collection).flatMap(([field, branch]) => (field === 'size' ? [] : [branch])),
);

/**
 * Calls onEvent for each entry of the range. Works for real Delphes files (split
 * TClonesArray branches) and uproot-style ones (`Electron.PT[Electron_size]/F`).
 * The event and its arrays are reused: valid only during the callback.
 * Throws RootReadError `no-tree`, `missing-branch` (listing every missing branch)
 * or `corrupt`.
 */
export async function readDelphesEvents(
  file: RootFile,
  onEvent: (entry: number, event: DelphesEvent) => void,
  range?: EntryRange,
): Promise<void> {
  const tree = await file.tree(DELPHES_TREE);
  const empty = new Float32Array(0);
  const event: DelphesEvent = {
    electron: { pt: empty, eta: empty, phi: empty, charge: empty },
    muon: { pt: empty, eta: empty, phi: empty, charge: empty },
    track: { pt: empty, eta: empty, phi: empty, pid: empty, charge: empty, x: empty, y: empty, z: empty },
    photon: { et: empty, eta: empty, phi: empty },
    neutral: { et: empty, eta: empty, phi: empty },
    jet: { pt: empty, eta: empty, phi: empty, btag: empty },
    met: null,
  };
  await tree.read(
    [...DELPHES_EVENT_BRANCHES],
    (entry, values) => {
      fillEvent(event, (name) => memberArray(values, name, file.name));
      onEvent(entry, event);
    },
    range,
  );
}

function fillEvent(event: DelphesEvent, column: (name: string) => ArrayLike<number>): void {
  for (const [lepton, names] of [[event.electron, B.electron], [event.muon, B.muon]] as const) {
    lepton.pt = column(names.pt);
    lepton.eta = column(names.eta);
    lepton.phi = column(names.phi);
    lepton.charge = column(names.charge);
  }
  const t = event.track;
  t.pt = column(B.track.pt);
  t.eta = column(B.track.eta);
  t.phi = column(B.track.phi);
  t.pid = column(B.track.pid);
  t.charge = column(B.track.charge);
  t.x = column(B.track.x);
  t.y = column(B.track.y);
  t.z = column(B.track.z);
  for (const [towers, names] of [[event.photon, B.photon], [event.neutral, B.neutral]] as const) {
    towers.et = column(names.et);
    towers.eta = column(names.eta);
    towers.phi = column(names.phi);
  }
  event.jet.pt = column(B.jet.pt);
  event.jet.eta = column(B.jet.eta);
  event.jet.phi = column(B.jet.phi);
  event.jet.btag = column(B.jet.btag);
  const met = column(B.met.met);
  const metPhi = column(B.met.phi);
  event.met = met.length > 0 ? { met: met[0] ?? 0, phi: metPhi[0] ?? 0 } : null;
}

function memberArray(values: BranchValues, name: string, fileName: string): ArrayLike<number> {
  const value = values[name];
  if (typeof value === 'number' || value === undefined) {
    throw new RootReadError(fileName, 'corrupt', `branch ${name} holds one number per event, not one per collection member`);
  }
  return value;
}
