"""Dump TTree branches with uproot as JSON, the reference for test/rootRead.test.ts.

    python dump_branches.py FILE TREE [--first N] [--count M] BRANCH [BRANCH ...]

Prints {"entries": <entries in the tree>, "branches": {BRANCH: [one value per entry]}},
where a value is a number (scalar branches) or a list of numbers (jagged ones),
for entries [first, first + count) clipped to the tree. JSON has no NaN or
infinities: those are written as the strings "NaN", "Infinity", "-Infinity".
"""

import argparse
import json
import math

import awkward as ak
import uproot


def finite_or_name(value):
    """Replaces non-finite floats, recursively, by JavaScript's names for them."""
    if isinstance(value, list):
        return [finite_or_name(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("tree")
    parser.add_argument("branches", nargs="+")
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, default=None)
    args = parser.parse_args()

    with uproot.open(args.file) as file:
        tree = file[args.tree]
        stop = tree.num_entries if args.count is None else min(tree.num_entries, args.first + args.count)
        start = min(args.first, stop)
        branches = {
            name: finite_or_name(ak.to_list(tree[name].array(library="ak", entry_start=start, entry_stop=stop)))
            for name in args.branches
        }
    print(json.dumps({"entries": tree.num_entries, "branches": branches}))


if __name__ == "__main__":
    main()
