#!/usr/bin/python3
"""usage: /usr/bin/python3 bench/dht/lt_server.py PORT NODES_BASE NODES SECONDS

A libtorrent (python3-libtorrent) DHT node on 127.0.0.1:PORT for the throughput benchmark
(bench/dht/run.sh). Loopback settings as ../shared/interop/ltloop.py (no bootstrap, UPnP,
NAT-PMP, LSD; dht_restrict_routing_ips off), plus its DHT rate limits turned off:
dht_upload_rate_limit (default 8,000 bytes/s) and dht_block_ratelimit (default 5 queries/s
per IP) set far above anything the load reaches, and no alerts. For the first 12 s it calls
add_dht_node for 127.0.0.1:NODES_BASE..NODES_BASE+NODES every 2 s (as bip_dht_server does
with add_node); every 2 s it prints the routing table size. Exits after SECONDS.
"""
import sys, time
import libtorrent as lt

port, base, nodes, seconds = (int(x) for x in sys.argv[1:5])
ses = lt.session({
    'listen_interfaces': f'127.0.0.1:{port}',
    'listen_system_port_fallback': False,
    'enable_upnp': False, 'enable_natpmp': False, 'enable_lsd': False,
    'enable_dht': True,
    'dht_bootstrap_nodes': '',
    'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
    'dht_ignore_dark_internet': False,
    'dht_prefer_verified_node_ids': False, 'dht_enforce_node_id': False,
    # Rate limits off. Both are ints multiplied internally (x10 for the 10 s block window),
    # so "very high" rather than INT_MAX.
    'dht_upload_rate_limit': 1 << 28,
    'dht_block_ratelimit': 100_000_000,
    'alert_mask': 0,
})
assert ses.get_settings()['dht_upload_rate_limit'] == 1 << 28
print(f'libtorrent {lt.__version__} DHT on 127.0.0.1:{port}', flush=True)


def table_size():
    ses.post_session_stats()
    end = time.time() + 1
    while time.time() < end:
        ses.wait_for_alert(100)
        for al in ses.pop_alerts():
            if isinstance(al, lt.session_stats_alert):
                v = al.values
                return v['dht.dht_nodes'], v.get('dht.dht_torrents', -1), v.get('dht.dht_peers', -1)
    return -1, -1, -1


t0 = time.time()
while time.time() - t0 < seconds:
    if time.time() - t0 < 12:
        for i in range(nodes):
            ses.add_dht_node(('127.0.0.1', base + i))
    n, tor, peers = table_size()
    print(f't={time.time() - t0:.0f}s nodes={n} stored_hashes={tor} stored_peers={peers}', flush=True)
    time.sleep(2)
