"""Reference reader for the ROOT TTree writer tests (root/write): uproot 5.

Usage:
  python dump_tree.py TREE FILE...     one JSON object {FILE: dump} on stdout
  python dump_tree.py --root-streamers JSON object of the StreamerInfo records
                                       that uproot ships (copied from files
                                       ROOT wrote), for comparison

A dump holds the file header, the top-level keys, the StreamerInfo classes,
and for the tree: its metadata, every branch (title, type, interpretation,
leaf, basket headers and entry offsets) and all values as plain lists.
"""

from __future__ import annotations

import json
import struct
import sys

import numpy as np
import uproot


def element_dump(e):
    out = {
        "class": type(e).__name__.replace("Model_", ""),
        "name": e.member("fName"),
        "type": int(e.member("fType")),
        "size": int(e.member("fSize")),
        "typename": e.member("fTypeName"),
    }
    if "fBaseVersion" in e.all_members:
        out["baseVersion"] = int(e.member("fBaseVersion"))
    if "fCountName" in e.all_members:
        out["countName"] = e.member("fCountName")
    return out


def streamer_dump(si):
    return {
        "version": int(si.class_version),
        "checksum": int(si.member("fCheckSum")),
        "elements": [element_dump(e) for e in si.elements],
    }


def header_dump(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    (magic, version, begin, end, seek_free, nbytes_free, nfree, nbytes_name,
     units, compress, seek_info, nbytes_info) = struct.unpack(">4siiiiiiiBiii", raw[:45])
    return {
        "size": len(raw),
        "magic": magic.decode(),
        "fVersion": version,
        "fBEGIN": begin,
        "fEND": end,
        "fSeekFree": seek_free,
        "fNbytesFree": nbytes_free,
        "nfree": nfree,
        "fNbytesName": nbytes_name,
        "fUnits": units,
        "fCompress": compress,
        "fSeekInfo": seek_info,
        "fNbytesInfo": nbytes_info,
    }


def to_plain(x):
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return x


def branch_dump(b):
    leaf = b.member("fLeaves")[0]
    count = leaf.member("fLeafCount")
    baskets = []
    for i in range(b.num_baskets):
        bk = b.basket(i)
        offsets = bk.byte_offsets
        baskets.append({
            "keyVersion": int(bk.key_version),
            "fCycle": int(bk.member("fCycle")),
            "fNbytes": int(bk.member("fNbytes")),
            "fObjlen": int(bk.member("fObjlen")),
            "fKeylen": int(bk.member("fKeylen")),
            "fNevBuf": int(bk.member("fNevBuf")),
            "fNevBufSize": int(bk.member("fNevBufSize")),
            "fLast": int(bk.member("fLast")),
            "compressed": bk.block_compression_info is not None,
            "blocks": [list(x) for x in (bk.block_compression_info or [])],
            "byteOffsets": None if offsets is None else [int(o) for o in offsets],
        })
    interp = b.interpretation
    content = getattr(interp, "content", None)
    return {
        "name": b.name,
        "title": b.title,
        "typename": b.typename,
        "interpretation": str(interp),
        "dtype": str(content.from_dtype) if content is not None else str(interp.from_dtype),
        "jagged": content is not None,
        "numEntries": int(b.num_entries),
        "numBaskets": int(b.num_baskets),
        "entryOffsets": [int(x) for x in b.entry_offsets],
        "fEntryOffsetLen": int(b.member("fEntryOffsetLen")),
        "fWriteBasket": int(b.member("fWriteBasket")),
        "fMaxBaskets": int(b.member("fMaxBaskets")),
        "fCompress": int(b.member("fCompress")),
        "fTotBytes": int(b.member("fTotBytes")),
        "fZipBytes": int(b.member("fZipBytes")),
        "fBasketSeek": [int(x) for x in b.member("fBasketSeek")[: b.num_baskets]],
        "fBasketBytes": [int(x) for x in b.member("fBasketBytes")[: b.num_baskets]],
        "leaf": {
            "class": leaf.classname,
            "name": leaf.member("fName"),
            "title": leaf.member("fTitle"),
            "fLen": int(leaf.member("fLen")),
            "fLenType": int(leaf.member("fLenType")),
            "fIsRange": bool(leaf.member("fIsRange")),
            "fIsUnsigned": bool(leaf.member("fIsUnsigned")),
            "fMaximum": to_plain(leaf.member("fMaximum")),
            "leafCount": None if count is None else count.member("fName"),
        },
        "baskets": baskets,
        "values": b.array(library="ak").to_list(),
    }


def dump(tree_name, path):
    f = uproot.open(path)
    keys = []
    for key in f.file.root_directory.keys(recursive=False, cycle=True):
        name, cycle = key.rsplit(";", 1)
        k = f.key(key)
        keys.append({
            "name": name,
            "cycle": int(cycle),
            "classname": k.fClassName,
            "fSeekKey": int(k.fSeekKey),
            "fSeekPdir": int(k.fSeekPdir),
            "fNbytes": int(k.fNbytes),
            "fObjlen": int(k.fObjlen),
        })
    streamers = {}
    for name, versions in f.file.streamers.items():
        for _, si in versions.items():
            streamers[name] = streamer_dump(si)
    t = f[tree_name]
    return {
        "header": header_dump(path),
        "uuid": str(f.file.uuid),
        "keys": keys,
        "streamers": streamers,
        "tree": {
            "name": t.name,
            "title": t.title,
            "numEntries": int(t.num_entries),
            "fTotBytes": int(t.member("fTotBytes")),
            "fZipBytes": int(t.member("fZipBytes")),
            "classVersion": int(t.class_version),
            "branches": [branch_dump(b) for b in t.branches],
        },
    }


def root_streamers():
    """TStreamerInfos bundled with uproot (raw bytes ROOT wrote), decoded."""
    import uproot.models.TBranch
    import uproot.models.TLeaf
    import uproot.models.TTree
    from uproot.source.chunk import Chunk
    from uproot.source.cursor import Cursor

    class _Source:
        file_path = "uproot-bundled"

    class _File:
        file_path = "uproot-bundled"
        object_cache = None
        options = {}
        streamers = {}
        custom_classes = None

        @property
        def file(self):
            return self

        def class_named(self, name, version=None):
            return uproot.classes[name]

        def streamer_named(self, *args, **kwargs):
            return None

        def streamers_named(self, *args, **kwargs):
            return []

        def remove_class_definition(self, name):
            pass

    models = [
        uproot.models.TLeaf.Model_TLeafI_v1,
        uproot.models.TLeaf.Model_TLeafL_v1,
        uproot.models.TLeaf.Model_TLeafF_v1,
        uproot.models.TLeaf.Model_TLeafD_v1,
        uproot.models.TLeaf.Model_TLeafS_v1,
        uproot.models.TLeaf.Model_TLeafB_v1,
        uproot.models.TLeaf.Model_TLeafO_v1,
        uproot.models.TBranch.Model_TBranch_v13,
        uproot.models.TTree.Model_TTree_v20,
    ]
    out = {}
    for model in models:
        for raw in model.class_rawstreamers:
            name = raw[-2]
            if name in out:
                continue
            data = np.frombuffer(raw[1], dtype=np.uint8)
            fake = _File()
            si = uproot.deserialization.read_object_any(
                Chunk.wrap(_Source(), data), Cursor(0), {}, fake, fake, None
            )
            out[name] = streamer_dump(si)
    return out


def main(argv):
    if argv[:1] == ["--root-streamers"]:
        json.dump(root_streamers(), sys.stdout)
        return 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    tree_name, paths = argv[0], argv[1:]
    json.dump({p: dump(tree_name, p) for p in paths}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
