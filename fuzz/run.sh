#!/usr/bin/env bash
# Run every fuzz target for SECONDS (default 60) each, concurrently, after
# seeding each target's corpus: the bencode targets from
# testdata/bencode/cases.json, krpc_decode from the KRPC conformance messages
# (bip_dht/testdata/krpc_messages.json).
# Prints the number of executions per target (libFuzzer's final
# `stat::number_of_executed_units`). Exit status is non-zero if any target
# found a crash (its input is left in fuzz/artifacts/<target>/).
#
# Usage: fuzz/run.sh [SECONDS]
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); RUSTC_BOOTSTRAP=1
# lets its nightly-only flags work on a stable toolchain.
set -u
SECONDS_PER_TARGET="${1:-60}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
TARGETS=(decode_strict decode_lenient krpc_decode)
export RUSTC_BOOTSTRAP=1
cd "$HERE"

# Seed corpora: one file per case, named after the case.
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    if [ "$t" = krpc_decode ]; then
        python3 - "$ROOT/bip_dht/testdata/krpc_messages.json" "corpus/$t" <<'PY'
import json, os, sys
msgs = json.load(open(sys.argv[1]))["messages"]
for i, m in enumerate(msgs):
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in m.get("name", "msg"))
    with open(os.path.join(sys.argv[2], f"seed-{i:03}-{name}"), "wb") as f:
        f.write(bytes.fromhex(m["bencoded_hex"]))
print(f"seeded {len(msgs)} inputs into {sys.argv[2]} from bip_dht/testdata/krpc_messages.json")
PY
        continue
    fi
    python3 - "$ROOT/testdata/bencode/cases.json" "corpus/$t" <<'PY'
import json, os, sys
cases = json.load(open(sys.argv[1]))
for i, case in enumerate(cases):
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in case.get("name", "case"))
    with open(os.path.join(sys.argv[2], f"seed-{i:03}-{name}"), "wb") as f:
        f.write(bytes.fromhex(case["input_hex"]))
print(f"seeded {len(cases)} inputs into {sys.argv[2]} from testdata/bencode/cases.json")
PY
done

# Build once up front so the timed runs do not include compilation.
cargo fuzz build || { echo "build failed"; exit 2; }

pids=()
for t in "${TARGETS[@]}"; do
    cargo fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" >"artifacts/$t.log" 2>&1 &
    pids+=("$!")
done
status=0
for i in "${!TARGETS[@]}"; do
    wait "${pids[$i]}" || status=1
done
for t in "${TARGETS[@]}"; do
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "artifacts/$t.log" | tail -n 1 | grep -o '[0-9]*$')"
    echo "$t: ${execs:-unknown} executions in ${SECONDS_PER_TARGET}s"
    if grep -q -E 'ERROR: libFuzzer|panicked at|SUMMARY: ' "artifacts/$t.log"; then
        echo "$t: CRASH, see fuzz/artifacts/$t.log and fuzz/artifacts/$t/"
        grep -E 'panicked at|Test unit written to' "artifacts/$t.log" | head -n 5
    fi
done
exit "$status"
