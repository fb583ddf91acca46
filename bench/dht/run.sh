#!/bin/sh
# usage: bench/dht/run.sh [SECONDS] [ROUNDS]
#
# DHT node throughput (issue 8): queries answered per server CPU-second, bip vs libtorrent.
# One after the other in each round (the order rotates between rounds), each server alone on
# 127.0.0.1 and pinned to CPU 1 while the load generator runs on CPU 0:
#   bip       bip_dht::Dht, the tokio driver, on a current-thread runtime (bip_dht_server tokio)
#   bip-core  bip_dht::Node around a blocking std UdpSocket (bip_dht_server core): the core
#             without the tokio driver
#   bip-mmsg  bip_dht::Node around recvmmsg/sendmmsg batches of up to 64 (bip_dht_server mmsg):
#             what a batched driver (like bip_utracker's threaded server) would give
#   libtorrent  python3-libtorrent 2.0.8 (lt_server.py) with dht_upload_rate_limit and
#             dht_block_ratelimit far above the load and no alerts
# The load (dht_load, identical for every server): 200 fake nodes on 200 source ports, 8 per
# bucket level, answer every query of the server's (so both routing tables hold them and
# find_node/get_peers answers carry 8 nodes); 500 of 1,000 info hashes get 8 announced peers
# (announce_peer with the token of a prior get_peers); after a 10 s warm-up, 64 of those
# sockets flood ping : find_node : get_peers 1:1:1 with 4 queries each in flight for SECONDS.
# Server CPU = utime+stime from /proc/PID/stat around the flood. Prints each run, then medians
# over ROUNDS (default 3) with min..max spread, and the ratios bip / libtorrent. The last
# column also counts CPU 1's softirq time: on loopback the kernel delivers a datagram in a
# softirq on the sender's CPU, which IRQ time accounting keeps out of the server's stime.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-10}
rounds=${2:-3}
warmup=${WARMUP:-10}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$here/target}
work=$(mktemp -d /tmp/bip-dht-bench.XXXXXX)
spid=""
cleanup() {
    [ -n "$spid" ] && kill "$spid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

cargo build --release --manifest-path "$here/Cargo.toml" --bins
bin=$CARGO_TARGET_DIR/release
servers="bip bip-core bip-mmsg libtorrent"
if ! /usr/bin/python3 -c 'import libtorrent' 2>/dev/null; then
    echo "python3-libtorrent missing (apt-get install python3-libtorrent): bip only"
    servers="bip bip-core bip-mmsg"
fi
# Other work on the CPUs (compilers, tests) stalls the closed loop: wait (at most 30 s) until
# the machine was at least 85% idle for a second.
busy_pct() {
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    echo "$a $b" | awk '{ t = ($3 - $1) + ($4 - $2); print (t > 0) ? int(100 * ($3 - $1) / t) : 0 }'
}
wait_idle() {
    i=0
    while [ $i -lt 15 ]; do
        busy=$(busy_pct)
        [ "$busy" -le 15 ] && return 0
        i=$((i + 1)); sleep 1
    done
    echo "note: the machine is ${busy}% busy with other work; this run may be noisy"
}

port=16881
base=21000
life=$((warmup + secs + 40))

# run NAME: one server, one flood; appends the RESULT line to $work/results.
run() {
    name=$1
    case $name in
        bip) set -- "$bin/bip_dht_server" $port $base 200 $life tokio ;;
        bip-core) set -- "$bin/bip_dht_server" $port $base 200 $life core ;;
        bip-mmsg) set -- "$bin/bip_dht_server" $port $base 200 $life mmsg ;;
        libtorrent) set -- /usr/bin/python3 "$here/lt_server.py" $port $base 200 $life ;;
    esac
    taskset -c 1 "$@" > "$work/$name.log" 2>&1 &
    spid=$!
    sleep 1
    out=$(taskset -c 0 "$bin/dht_load" "$name" $port $spid $base \
        seconds="$secs" warmup="$warmup" nodes=200 flood=64 window=4 \
        hashes=1000 stored=500 peers=8 mix=1:1:1) || true
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    spid=""
    table=$(sed -n 's/.* nodes=\([0-9-]*\).*/\1/p' "$work/$name.log" | tail -1)
    if [ -z "$out" ]; then
        echo "$name: no result"; cat "$work/$name.log"; return 0
    fi
    echo "$out table_nodes=${table:-?}" >> "$work/results"
    echo "$out table_nodes=${table:-?}" | awk '{
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%-10s answered/cpu-s=%7d answered/s=%7d server_cpu=%5.2fs (user %5.2f sys %5.2f; CPU 1 softirq %4.2f) load_cpu=%5.2fs lost=%d errors=%d table=%s reply_bytes=%s/%s/%s values=%s\n",
            v["name"], v["per_cpu_s"], v["per_s"], v["server_cpu_s"], v["user_s"], v["sys_s"],
            v["softirq_server_cpu_s"], v["load_cpu_s"], v["lost"], v["errors"], v["table_nodes"],
            v["bytes_ping"], v["bytes_find_node"], v["bytes_get_peers"], v["get_peers_with_values"] }'
    sleep 1
}

r=0
while [ $r -lt "$rounds" ]; do
    r=$((r + 1))
    echo "round $r/$rounds (flood ${secs}s after ${warmup}s warm-up per server)"
    # Rotate the order so no server always runs first or last.
    order=$(echo $servers | awk -v r=$r '{ for (i = 0; i < NF; i++) printf "%s ", $(((i + r - 1) % NF) + 1) }')
    for s in $order; do wait_idle; run "$s"; done
done

echo
echo "medians over $rounds rounds (min..max), flood ${secs}s, server on CPU 1, load on CPU 0"
printf '%-10s %14s %19s %12s %9s %13s %14s %17s\n' server answered/cpu-s "(min..max)" answered/s cpu/wall "user/sys s" "us/answer u+s" "incl. softirq"
for s in $servers; do
    grep " name=$s " "$work/results" | awk -v s="$s" '{
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        print v["per_cpu_s"], v["per_s"], v["server_cpu_s"] / v["wall_s"], v["user_s"], v["sys_s"],
            v["answered"] / (v["server_cpu_s"] + v["softirq_server_cpu_s"]),
            1e6 * v["user_s"] / v["answered"], 1e6 * v["sys_s"] / v["answered"] }' \
        > "$work/$s.vals"
    med() { cut -d' ' -f"$1" "$work/$s.vals" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
    lo=$(cut -d' ' -f1 "$work/$s.vals" | sort -g | head -1)
    hi=$(cut -d' ' -f1 "$work/$s.vals" | sort -g | tail -1)
    m=$(med 1)
    eval "med_$(echo $s | tr - _)=$m"
    u=$(med 7)
    eval "usr_$(echo $s | tr - _)=$u"
    printf '%-10s %14.0f %9.0f..%-9.0f %12.0f %9.2f %6.2f/%-6.2f %6.2f+%-6.2f %17.0f\n' "$s" "$m" "$lo" "$hi" "$(med 2)" "$(med 3)" "$(med 4)" "$(med 5)" "$u" "$(med 8)" "$(med 6)"
done
if [ -n "${med_libtorrent:-}" ]; then
    echo
    echo "bip (tokio driver) / libtorrent answered/cpu-s:  $(echo "$med_bip $med_libtorrent" | awk '{ printf "%.2f", $1 / $2 }')   (goal >= 3)"
    echo "bip-core (std socket) / libtorrent answered/cpu-s:  $(echo "$med_bip_core $med_libtorrent" | awk '{ printf "%.2f", $1 / $2 }')"
    echo "bip-mmsg (batched) / libtorrent answered/cpu-s:  $(echo "$med_bip_mmsg $med_libtorrent" | awk '{ printf "%.2f", $1 / $2 }')"
    echo "user-space CPU per answer, libtorrent / bip, bip-core, bip-mmsg:  $(echo "$usr_libtorrent $usr_bip $usr_bip_core $usr_bip_mmsg" | awk '{ printf "%.2f, %.2f, %.2f", $1 / $2, $1 / $3, $1 / $4 }')"
fi
