#!/bin/bash
# usage: bench/metainfo/run.sh [WORKDIR]
# Times .torrent creation side by side, in one run, on the same data (already in the page cache),
# 1 MiB pieces (hybrid on the tree: 256 KiB, see below):
#   * a 2 GiB file, and a tree of 10,000 small files (~1 GB, 100 folders);
#   * bip (`torrent create`, v1 / v2 / hybrid, all cores), mktorrent -t 2 (v1), imdl (v1, when
#     installed: `cargo install imdl`), libtorrent's create_torrent (hybrid; python3-libtorrent);
#   * the limit: single-core SHA-1 / SHA-256 throughput of the RustCrypto crates × cores, and the
#     same measured with one thread per core hashing at once (the real limit).
# Runs every tool $RUNS times (default 5), rounds interleaved (round 1 of each tool, then round 2,
# ...) so that load from other processes falls on all alike. Prints each throughput (GB/s = 10^9
# bytes per second, median of the rounds, with the spread) and bip's ratio to each, both wall
# clock and per CPU-second (user+sys: a fairer comparison on a loaded machine), and bip/mktorrent
# round by round.
# Not a test: numbers depend on the machine's load. Needs ~3 GB in WORKDIR (default /tmp/bip-bench-metainfo).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${1:-/tmp/bip-bench-metainfo}
RUNS=${RUNS:-5}
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

# The tree is named "tree" inside the torrents: .torrent files go to $work/out.
out="$work/out"; mkdir -p "$out"
# Rounds are interleaved (round 1 of every tool, then round 2, ...) so that load from other
# processes falls on all of them alike. W/P[set,key] = the rounds' wall / CPU (user+sys) seconds.
declare -A CMD W P R C S
keys=(bip bipv2 biph)
command -v mktorrent > /dev/null && keys+=(mk)
command -v imdl > /dev/null && keys+=(imdl)
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null && keys+=(lth)
f=$(mktemp)
for set in big tree; do
    src=$big; [ $set = tree ] && src=$tree
    # Hybrid rows on the tree use 256 KiB pieces (bip and libtorrent alike): with 1 MiB pieces
    # its 10,000 files (100 KB on average) would need 9.5 GB of zero padding for 1 GB of data,
    # which bip refuses (CreateError::ExcessivePadding: more than 4 GiB and more than the data).
    hpl=1048576; [ $set = tree ] && hpl=262144
    # (a .done marker file is inside the tree: a few bytes, the same for every tool)
    CMD[bip]="'$bip' create '$src' -o '$out/bip.torrent' --piece-length 1048576 --no-date --force"
    CMD[bipv2]="${CMD[bip]} --v2"
    CMD[biph]="'$bip' create '$src' -o '$out/biph.torrent' --piece-length $hpl --no-date --force --hybrid"
    CMD[mk]="rm -f '$out/mk.torrent'; mktorrent -t 2 -l 20 -o '$out/mk.torrent' '$src'"
    CMD[imdl]="imdl torrent create --force --piece-length 1MiB --output '$out/imdl.torrent' --input '$src'"
    CMD[lth]="/usr/bin/python3 '$repo/bip_metainfo/tests/interop/lt_mktorrent.py' '$out/lt.torrent' '$src' --piece $hpl --hybrid"
    for _ in $(seq "$RUNS"); do
        for key in "${keys[@]}"; do
            [ "${W[$set,$key]:-}" = failed ] && continue
            if /usr/bin/time -f "%e %U %S" -o "$f" sh -c "${CMD[$key]}" > /dev/null 2>&1; then
                read -r t u s < "$f"
                W[$set,$key]+="$t "; P[$set,$key]+="$(echo "$u + $s" | bc -l) "
            else
                echo "FAILED ($set): ${CMD[$key]}" >&2; W[$set,$key]=failed
            fi
        done
    done
done
rm -f "$f"
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
gbps() { printf "%.3f" "$(echo "$1 / $2 / 1000000000" | bc -l)"; }
for set in big tree; do
    bytes=$big_bytes; [ $set = tree ] && bytes=$tree_bytes
    for key in "${keys[@]}"; do
        w=${W[$set,$key]:-failed}
        if [ "$w" = failed ]; then R[$set,$key]=failed; C[$set,$key]=failed; continue; fi
        R[$set,$key]=$(gbps "$bytes" "$(echo "$w" | median)")
        C[$set,$key]=$(gbps "$bytes" "$(echo "${P[$set,$key]}" | median)")
        S[$set,$key]="$(gbps "$bytes" "$(echo "$w" | tr ' ' '\n' | grep -v '^$' | sort -g | tail -1)")..$(gbps "$bytes" "$(echo "$w" | tr ' ' '\n' | grep -v '^$' | sort -g | head -1)")"
    done
done
# bip v1 / mktorrent per round (same round, back to back): median and min..max.
round_ratios() {
    local a b; read -ra a <<< "${W[$1,mk]:-}"; read -ra b <<< "${W[$1,bip]:-}"
    [ "${#a[@]}" = "${#b[@]}" ] && [ "${a[0]:-failed}" != failed ] && [ "${b[0]:-failed}" != failed ] || { echo "-"; return; }
    local r=""; for i in "${!a[@]}"; do r+="$(echo "scale=3; ${a[$i]} / ${b[$i]}" | bc -l) "; done
    echo "median $(echo "$r" | median), rounds $(echo "$r" | tr ' ' '\n' | grep -v '^$' | sort -g | paste -sd' ')"
}

read -r s1 s256 s1all s256all < <("$CARGO_TARGET_DIR/release/shabench" 1024 | awk '{print $2}' | paste -sd' ')
echo
echo "== limit: single-core SHA-1 $s1 GB/s × $cores cores = $(echo "$s1 * $cores" | bc -l) GB/s; SHA-256 $s256 GB/s × $cores = $(echo "$s256 * $cores" | bc -l) GB/s (load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "   measured with $cores threads hashing at once: SHA-1 $s1all GB/s, SHA-256 $s256all GB/s (the real limit)"
ratio() { [ -n "${2:-}" ] && [ "$2" != 0 ] && [ "$2" != failed ] && [ "$1" != failed ] && echo "scale=2; $1 / $2" | bc -l || echo "-"; }
printf '\n%-24s %10s %10s   %s\n' "median of $RUNS" "2 GiB file" "10k files" "(GB/s wall clock | GB per CPU-second | wall min..max big, tree)"
for k in bip:"bip v1" bipv2:"bip v2" biph:"bip hybrid" mk:"mktorrent -t 2 (v1)" imdl:"imdl (v1)" lth:"libtorrent (hybrid)"; do
    key=${k%%:*}; label=${k#*:}
    printf '%-24s %10s %10s   | %6s %6s | %s, %s\n' "$label" "${R[big,$key]:-skipped}" "${R[tree,$key]:-skipped}" "${C[big,$key]:--}" "${C[tree,$key]:--}" "${S[big,$key]:--}" "${S[tree,$key]:--}"
done
echo
echo "ratios of medians: wall clock (CPU efficiency)"
for k in mk:"mktorrent -t 2" imdl:"imdl"; do
    key=${k%%:*}; label=${k#*:}
    echo "bip v1 / $label: big $(ratio "${R[big,bip]}" "${R[big,$key]:-}") ($(ratio "${C[big,bip]}" "${C[big,$key]:-}")), tree $(ratio "${R[tree,bip]}" "${R[tree,$key]:-}") ($(ratio "${C[tree,bip]}" "${C[tree,$key]:-}"))"
done
echo "bip v1 / mktorrent -t 2, per round: big $(round_ratios big); tree $(round_ratios tree)"
echo "bip hybrid / libtorrent hybrid: big $(ratio "${R[big,biph]}" "${R[big,lth]:-}") ($(ratio "${C[big,biph]}" "${C[big,lth]:-}")), tree $(ratio "${R[tree,biph]}" "${R[tree,lth]:-}") ($(ratio "${C[tree,biph]}" "${C[tree,lth]:-}"))"
echo "bip v1 / SHA-1 limit: big $(ratio "${R[big,bip]}" "$(echo "$s1 * $cores" | bc -l)") (per CPU-second vs one core: $(ratio "${C[big,bip]}" "$s1")); vs $cores threads at once: big $(ratio "${R[big,bip]}" "$s1all"), tree $(ratio "${R[tree,bip]}" "$s1all")"
echo "mktorrent / SHA-1 limit with $cores threads at once: big $(ratio "${R[big,mk]:-failed}" "$s1all"), tree $(ratio "${R[tree,mk]:-failed}" "$s1all")"
command -v imdl > /dev/null || echo "imdl: not installed (cargo install imdl), skipped"
