#!/bin/bash
# usage: bench/metainfo/run.sh [WORKDIR]
# Times .torrent creation side by side, in one run, on the same data (already in the page cache),
# 1 MiB pieces:
#   * a 2 GiB file, and a tree of 10,000 small files (~1 GB, 100 folders);
#   * bip (`torrent create`, v1 / v2 / hybrid, all cores), mktorrent -t 2 (v1), imdl (v1, when
#     installed: `cargo install imdl`), libtorrent's create_torrent (hybrid; python3-libtorrent);
#   * the limit: single-core SHA-1 / SHA-256 throughput of the RustCrypto crates × cores.
# Prints each throughput (GB/s = 10^9 bytes per second, best of $RUNS runs) and bip's ratio to each,
# both wall clock and per CPU-second (user+sys: a fairer comparison on a loaded machine).
# Not a test: numbers depend on the machine's load. Needs ~3 GB in WORKDIR (default /tmp/bip-bench-metainfo).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${1:-/tmp/bip-bench-metainfo}
RUNS=${RUNS:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
mkdir -p "$work"
cores=$(nproc)

echo "== building (release)"
(cd "$here" && cargo build --release -q)
# bip: the workspace's `torrent` example (examples/torrent.rs, `torrent create`).
(cd "$repo" && cargo build --release -q -p bip_examples --example torrent)
bip="$CARGO_TARGET_DIR/release/examples/torrent"
"$bip" create --help > /dev/null
echo "bip: $bip (cargo run --release --example torrent -- create ...)"

echo "== data in $work"
big="$work/big.bin"
if [ ! -f "$big" ] || [ "$(stat -c %s "$big")" != 2147483648 ]; then
    head -c 2147483648 /dev/urandom > "$big"
fi
tree="$work/tree"
if [ ! -f "$tree/.done" ]; then
    rm -rf "$tree"
    python3 - "$tree" <<'PY'
import os, random, sys
root = sys.argv[1]; r = random.Random(7); blob = os.urandom(1 << 20)
for i in range(10_000):
    d = os.path.join(root, f"d{i % 100:03d}")
    os.makedirs(d, exist_ok=True)
    n = r.randint(1, 200 * 1024)
    off = r.randint(0, len(blob) - n)
    with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as f:
        f.write(blob[off:off + n] + i.to_bytes(4, "little"))
open(os.path.join(root, ".done"), "w").close()
PY
fi
big_bytes=$(stat -c %s "$big")
tree_bytes=$(find "$tree" -type f -name '*.bin' -printf '%s\n' | awk '{s+=$1} END {print s}')
cat "$big" > /dev/null; find "$tree" -type f -name '*.bin' -exec cat {} + > /dev/null
echo "big file: $big_bytes bytes; tree: 10000 files, $tree_bytes bytes; cores: $cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"

# best-of-$RUNS wall time and CPU time (user+sys, children included) in seconds: "WALL CPU"
best() {
    local b="" c="" t u s cpu f
    f=$(mktemp)
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %U %S" -o "$f" "$@" > /dev/null 2>&1 || { echo "FAILED: $*" >&2; echo "0 0"; rm -f "$f"; return; }
        read -r t u s < "$f"; cpu=$(echo "$u + $s" | bc -l)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
        if [ -z "$c" ] || [ "$(echo "$cpu < $c" | bc -l)" = 1 ]; then c=$cpu; fi
    done
    rm -f "$f"
    echo "$b $c"
}
gbps() { echo "scale=3; $1 / $2 / 1000000000" | bc -l; }
# record KEY BYTES "WALL CPU": R[KEY] = wall GB/s, C[KEY] = GB per CPU-second
record() {
    local w c; read -r w c <<< "$3"
    if [ "$w" = 0 ]; then R[$1]=failed; C[$1]=failed; return; fi
    R[$1]=$(gbps "$2" "$w"); C[$1]=$(gbps "$2" "$c")
}

# The tree is named "tree" inside the torrents: .torrent files go to $work/out.
out="$work/out"; mkdir -p "$out"
declare -A R C
for set in big tree; do
    src=$big; bytes=$big_bytes; [ $set = tree ] && { src=$tree; bytes=$tree_bytes; }
    # (a .done marker file is inside the tree: a few bytes, the same for every tool)
    record "$set,bip" "$bytes" "$(best "$bip" create "$src" -o "$out/bip.torrent" --piece-length 1048576 --no-date --force)"
    record "$set,bipv2" "$bytes" "$(best "$bip" create "$src" -o "$out/bip2.torrent" --piece-length 1048576 --no-date --force --v2)"
    record "$set,biph" "$bytes" "$(best "$bip" create "$src" -o "$out/biph.torrent" --piece-length 1048576 --no-date --force --hybrid)"
    if command -v mktorrent > /dev/null; then
        record "$set,mk" "$bytes" "$(best sh -c "rm -f '$out/mk.torrent'; mktorrent -t 2 -l 20 -o '$out/mk.torrent' '$src'")"
    fi
    if command -v imdl > /dev/null; then
        record "$set,imdl" "$bytes" "$(best imdl torrent create --force --piece-length 1MiB --output "$out/imdl.torrent" --input "$src")"
    fi
    if /usr/bin/python3 -c 'import libtorrent' 2>/dev/null; then
        record "$set,lth" "$bytes" "$(best /usr/bin/python3 "$repo/bip_metainfo/tests/interop/lt_mktorrent.py" "$out/lt.torrent" "$src" --piece 1048576 --hybrid)"
    fi
done

read -r s1 s256 < <("$CARGO_TARGET_DIR/release/shabench" 1024 | awk '{print $2}' | paste -sd' ')
echo
echo "== limit: single-core SHA-1 $s1 GB/s × $cores cores = $(echo "$s1 * $cores" | bc -l) GB/s; SHA-256 $s256 GB/s × $cores = $(echo "$s256 * $cores" | bc -l) GB/s"
ratio() { [ -n "${2:-}" ] && [ "$2" != 0 ] && echo "scale=2; $1 / $2" | bc -l || echo "-"; }
printf '\n%-28s %12s %12s   %s\n' "best of $RUNS" "2 GiB file" "10,000 files" "(GB/s wall clock | GB per CPU-second)"
for k in bip:"bip v1" bipv2:"bip v2" biph:"bip hybrid" mk:"mktorrent -t 2 (v1)" imdl:"imdl (v1)" lth:"libtorrent (hybrid)"; do
    key=${k%%:*}; label=${k#*:}
    printf '%-28s %12s %12s   | %8s %8s\n' "$label" "${R[big,$key]:-skipped}" "${R[tree,$key]:-skipped}" "${C[big,$key]:--}" "${C[tree,$key]:--}"
done
echo
echo "ratios: wall clock (CPU efficiency)"
for k in mk:"mktorrent -t 2" imdl:"imdl"; do
    key=${k%%:*}; label=${k#*:}
    echo "bip v1 / $label: big $(ratio "${R[big,bip]}" "${R[big,$key]:-}") ($(ratio "${C[big,bip]}" "${C[big,$key]:-}")), tree $(ratio "${R[tree,bip]}" "${R[tree,$key]:-}") ($(ratio "${C[tree,bip]}" "${C[tree,$key]:-}"))"
done
echo "bip hybrid / libtorrent hybrid: big $(ratio "${R[big,biph]}" "${R[big,lth]:-}") ($(ratio "${C[big,biph]}" "${C[big,lth]:-}")), tree $(ratio "${R[tree,biph]}" "${R[tree,lth]:-}") ($(ratio "${C[tree,biph]}" "${C[tree,lth]:-}"))"
echo "bip v1 / SHA-1 limit: big $(ratio "${R[big,bip]}" "$(echo "$s1 * $cores" | bc -l)") (per CPU-second vs one core: $(ratio "${C[big,bip]}" "$s1"))"
command -v imdl > /dev/null || echo "imdl: not installed (cargo install imdl), skipped"
