#!/usr/bin/python3
"""usage: /usr/bin/python3 lt_mktorrent.py OUT.torrent PATH --piece BYTES [--v1|--v2|--hybrid]

Makes a .torrent with libtorrent's create_torrent, files added in sorted full-path order (as
mktorrent does). --v1 = flag v1_only (default), --v2 = v2_only, --hybrid = flags 0.
Prints: v1=HEX|- v2=HEX|-
"""
import argparse, os
import libtorrent as lt

ap = argparse.ArgumentParser()
ap.add_argument('out'); ap.add_argument('path')
ap.add_argument('--piece', type=int, default=0)
g = ap.add_mutually_exclusive_group()
g.add_argument('--v1', action='store_true'); g.add_argument('--v2', action='store_true')
g.add_argument('--hybrid', action='store_true')
a = ap.parse_args()
path = os.path.abspath(a.path)
fs = lt.file_storage()
if os.path.isfile(path):
    lt.add_files(fs, path)
else:
    base = os.path.dirname(path)
    for p in sorted(os.path.relpath(os.path.join(r, f), base)
                    for r, _, files in os.walk(path) for f in files):
        fs.add_file(p, os.path.getsize(os.path.join(base, p)))
flags = lt.create_torrent.v2_only if a.v2 else 0 if a.hybrid else lt.create_torrent.v1_only
ct = lt.create_torrent(fs, a.piece, flags=flags)
lt.set_piece_hashes(ct, os.path.dirname(path))
with open(a.out, 'wb') as f:
    f.write(lt.bencode(ct.generate()))
ih = lt.torrent_info(a.out).info_hashes()
print(f'v1={ih.v1 if ih.has_v1() else "-"} v2={ih.v2 if ih.has_v2() else "-"}')
