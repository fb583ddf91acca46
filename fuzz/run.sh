#!/usr/bin/env bash
# Run every fuzz target (or the ones named) for SECONDS (default 60) each, at
# most JOBS at a time (default 2; -j 1 runs them one after the other), after
# seeding each target's corpus from the repository's test data:
#   decode_strict, decode_lenient  testdata/bencode/cases.json
#   krpc_decode                    bip_dht/testdata/krpc_messages.json
#   utracker_request               testdata/utracker/bep15_packets.json (client to
#                                  tracker) and the announce requests of bep41_options.json
#   utracker_response              testdata/utracker/bep15_packets.json (tracker to client)
#   handshake_decode               handshakes built here from bip_handshake's test
#                                  vectors (there is no handshake test file)
#   metainfo_parse                 testdata/torrents/**/*.torrent
#   magnet_parse                   testdata/magnet/cases.json
# The targets are built once up front (`cargo fuzz build`); the timed runs start
# the built binaries directly, so edits to the crates during a run do not
# rebuild anything. Prints the executions of each target (libFuzzer's final
# `stat::number_of_executed_units`) and its wall time. Exit status is non-zero
# if any target found a crash or timed out (its input is left in
# fuzz/artifacts/<target>/, its log in fuzz/artifacts/<target>.log).
#
# Usage: fuzz/run.sh [-j JOBS] [SECONDS] [TARGET...]
#   e.g. nice -n 10 fuzz/run.sh -j 2 600     (every target 10 minutes, two at a time)
#        fuzz/run.sh -j 1 30 magnet_parse    (one target, 30 s)
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); RUSTC_BOOTSTRAP=1
# lets its nightly-only flags (-Zsanitizer) work on a stable toolchain.
set -u
ALL_TARGETS=(decode_strict decode_lenient krpc_decode utracker_request utracker_response
    handshake_decode metainfo_parse magnet_parse)
JOBS=2
while getopts "j:h" opt; do
    case "$opt" in
        j) JOBS="$OPTARG" ;;
        *) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
case "$JOBS" in '' | *[!0-9]* | 0) echo "-j needs a positive number" >&2; exit 2 ;; esac
SECONDS_PER_TARGET="${1:-60}"
case "$SECONDS_PER_TARGET" in '' | *[!0-9]*) echo "SECONDS must be a number" >&2; exit 2 ;; esac
[ $# -gt 0 ] && shift
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
for t in "${TARGETS[@]}"; do
    [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { echo "unknown target $t" >&2; exit 2; }
done

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
export RUSTC_BOOTSTRAP=1
cd "$HERE"

# Seed corpora: one file per case, named after the case (rewritten on every run,
# so the seeds stay current; inputs libFuzzer found are kept beside them).
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    python3 - "$t" "$ROOT" "corpus/$t" <<'PY'
import glob, json, os, sys
target, root, out = sys.argv[1:]
seeds = []  # (name, bytes)

def load(rel):
    with open(os.path.join(root, rel)) as f:
        return json.load(f)

if target in ("decode_strict", "decode_lenient"):
    src = "testdata/bencode/cases.json"
    seeds = [(c.get("name", "case"), bytes.fromhex(c["input_hex"])) for c in load(src)]
elif target == "krpc_decode":
    src = "bip_dht/testdata/krpc_messages.json"
    seeds = [(m.get("name", "msg"), bytes.fromhex(m["bencoded_hex"])) for m in load(src)["messages"]]
elif target in ("utracker_request", "utracker_response"):
    src = "testdata/utracker/bep15_packets.json"
    way = "client_to_tracker" if target == "utracker_request" else "tracker_to_client"
    seeds = [(p["name"], bytes.fromhex(p["hex"])) for p in load(src)["packets"] if p["direction"] == way]
    if target == "utracker_request":
        src += " and testdata/utracker/bep41_options.json"
        seeds += [("bep41-" + c["name"], bytes.fromhex(c["announce_request_hex"]))
                  for c in load("testdata/utracker/bep41_options.json")["cases"]]
elif target == "handshake_decode":
    src = "handshakes built from bip_handshake's tests"
    ih, pid = bytes([0xAA] * 20), b"-LT2080-onbl90WCE04m"
    std = bytes([19]) + b"BitTorrent protocol"
    seeds = [
        ("libtorrent", std + bytes([0, 0, 0, 0, 0, 0x10, 0, 0x05]) + ih + pid),
        ("no-extensions", std + bytes(8) + bytes(range(20)) + b"-BP0100-123456789012"),
        ("fast-dht-ltep", std + bytes([0, 0, 0, 0, 0, 0x10, 0, 0x05]) + ih + pid + bytes([0, 0, 0, 1, 2])),
        ("custom-protocol", bytes([8]) + b"bip chat" + bytes(range(8)) + bytes([1] * 20) + bytes([2] * 20)),
        ("empty-protocol", bytes([0]) + bytes(48)),
        ("long-protocol", bytes([255]) + bytes([0xFF] * 255) + bytes(48)),
        ("truncated", std + bytes(10)),
    ]
elif target == "metainfo_parse":
    src = "testdata/torrents"
    for p in sorted(glob.glob(os.path.join(root, src, "**", "*.torrent"), recursive=True)):
        rel = os.path.relpath(p, os.path.join(root, src))
        with open(p, "rb") as f:
            seeds.append((rel.replace(os.sep, "-"), f.read()))
elif target == "magnet_parse":
    src = "testdata/magnet/cases.json"
    seeds = [(c["name"], c["uri"].encode()) for c in load(src)["cases"]]
else:
    sys.exit(f"no seeds for {target}")

for i, (name, data) in enumerate(seeds):
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    with open(os.path.join(out, f"seed-{i:03}-{name}"), "wb") as f:
        f.write(data)
print(f"{target}: seeded {len(seeds)} inputs from {src}")
PY
done

# Build once up front so the timed runs do not include compilation.
cargo fuzz build || { echo "build failed"; exit 2; }
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
BIN="${CARGO_TARGET_DIR:-$HERE/target}/$TRIPLE/release"

run_one() {
    local t="$1" start end
    start=$(date +%s)
    "$BIN/$t" "corpus/$t" \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"artifacts/$t.log" 2>&1
    local rc=$?
    end=$(date +%s)
    echo "$((end - start))" >"artifacts/$t.seconds"
    return "$rc"
}

# At most JOBS targets at once.
running=0
for t in "${TARGETS[@]}"; do
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
    echo "$(date +%T) start $t"
    (run_one "$t"; echo $? >"artifacts/$t.rc") &
    running=$((running + 1))
done
wait

status=0
for t in "${TARGETS[@]}"; do
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "artifacts/$t.log" | tail -n 1 | grep -o '[0-9]*$')"
    secs="$(cat "artifacts/$t.seconds" 2>/dev/null)"
    echo "$t: ${execs:-unknown} executions in ${secs:-?}s"
    if [ "$(cat "artifacts/$t.rc" 2>/dev/null)" != 0 ] ||
        grep -q -E 'ERROR: libFuzzer|panicked at|SUMMARY: ' "artifacts/$t.log"; then
        status=1
        echo "$t: CRASH, see fuzz/artifacts/$t.log and fuzz/artifacts/$t/"
        grep -E 'panicked at|ERROR: |Test unit written to' "artifacts/$t.log" | head -n 5
    fi
done
exit "$status"
