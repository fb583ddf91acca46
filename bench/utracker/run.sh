#!/bin/sh
# usage: bench/utracker/run.sh [SECONDS]
#
# Runs aquatic_udp_load_test (its default profile: connect:announce:scrape 50:50:1 over
# 1,000,000 torrents, 1 worker) against, one after the other in one run:
#   bip (bench_utracker's bip_udp_server: ServerCore + MemoryStore, one socket; driver from
#        BIP_MODE: threaded (default: ThreadedServer, recvmmsg/sendmmsg), tokio or blocking),
#   opentracker (Debian; whitelist build, so the load test's 1,000,000 hashes are whitelisted),
#   aquatic_udp (crates.io, built without default features; 1 socket worker).
# Each server is pinned to CPU 0 and the load to CPU 1. Prints responses per second, the
# server's CPU time (utime+stime from /proc), responses per server CPU-second, bip's ratios,
# and the memory of bip's store with 1,000,000 peers across 100,000 torrents.
# Tools: cargo install --root "$TOOLS" aquatic_udp_load_test; aquatic_udp --no-default-features.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-30}
TOOLS=${TOOLS:-$here/../../target/bench-tools}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$here/target}
PATH=$TOOLS/bin:$PATH
work=$(mktemp -d /tmp/bip-ut-bench.XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT INT TERM

command -v aquatic_udp_load_test >/dev/null || cargo install --root "$TOOLS" --locked aquatic_udp_load_test
command -v aquatic_udp >/dev/null || cargo install --root "$TOOLS" --locked --no-default-features aquatic_udp
cargo build --release --manifest-path "$here/Cargo.toml" --bins
bin=$CARGO_TARGET_DIR/release

port=3000
aquatic_udp_load_test -p > "$work/load.toml"
sed -i "s/^server_address = .*/server_address = \"127.0.0.1:$port\"/; s/^duration = .*/duration = $secs/; s/^workers = .*/workers = 1/" "$work/load.toml"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# run NAME CMD...: starts the server pinned to CPU 0, runs the load on CPU 1, prints a line.
run() {
    name=$1; shift
    taskset -c 0 "$@" > "$work/$name.out" 2>&1 &
    spid=$!; pids="$pids $spid"
    sleep 3
    # The server may be a wrapper (timeout): measure the process bound to the port.
    real=$(ss -Hulpn "sport = :$port" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
    [ -n "$real" ] || { echo "$name: did not start"; cat "$work/$name.out"; return 0; }
    t0=$(cpu_ticks "$real")
    taskset -c 1 aquatic_udp_load_test -c "$work/load.toml" > "$work/$name.load" 2>&1 || true
    t1=$(cpu_ticks "$real")
    kill "$spid" 2>/dev/null || true; kill "$real" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
    rps=$(sed -n 's/^Average responses per second: \([0-9.]*\).*/\1/p' "$work/$name.load")
    cpu=$(echo "($t1 - $t0) / $hz" | bc -l)
    per=$(echo "$rps * $secs / $cpu" | bc -l 2>/dev/null || echo 0)
    printf '%-12s responses/s=%10.0f  server_cpu=%6.2fs  responses/cpu-s=%10.0f\n' "$name" "${rps:-0}" "$cpu" "$per"
    eval "rps_$name=\${rps:-0} per_$name=\$per"
    sleep 1
}

run bip "$bin/bip_udp_server" "127.0.0.1:$port" $((secs + 30)) "${BIP_MODE:-threaded}"

mkdir -p "$work/ot"; chmod 755 "$work/ot"
"$bin/aquatic_hashes" 1000000 > "$work/ot/whitelist.txt"; chmod 644 "$work/ot/whitelist.txt"
run opentracker timeout $((secs + 30)) opentracker -i 127.0.0.1 -P $port -p $port -d "$work/ot" -w /whitelist.txt

aquatic_udp -p > "$work/aq.toml"
sed -i "s/^address = .*/address = \"127.0.0.1:$port\"/; s/^socket_workers = .*/socket_workers = 1/" "$work/aq.toml"
run aquatic aquatic_udp -c "$work/aq.toml"

echo
echo "bip / aquatic responses/s:          $(echo "$rps_bip / $rps_aquatic" | bc -l | cut -c1-5)"
echo "bip / aquatic responses/cpu-s:      $(echo "$per_bip / $per_aquatic" | bc -l | cut -c1-5)   (goal >= 1.25)"
echo "bip / opentracker responses/s:      $(echo "$rps_bip / $rps_opentracker" | bc -l | cut -c1-5)"
"$bin/memory"
