#!/usr/bin/python3
"""usage: /usr/bin/python3 lt_peer.py --dir DIR [--size BYTES] [--seconds N] [--connect HOST:PORT]

A libtorrent 2.0 seeder on 127.0.0.1 for bip_handshake's interop tests (loopback only,
plain TCP, no uTP/DHT/LSD/UPnP/NAT-PMP, plaintext allowed both ways).

Generates DIR/payload.bin (random), makes a v1 torrent for it, seeds it, and prints
  info_hash=<hex>
  port=<listen port>
  seeding
then, for every peer that completes the handshake with it,
  peer pid=<hex peer id> addr=<ip:port>
--connect makes it dial that address (connect_peer) once seeding. Exits after --seconds
or as soon as stdin closes (the test dropped it).

For the handshake benchmark: --connections-limit and --listen-queue raise libtorrent's
connection limit (default 200) and listen backlog (default 5); --dial-port P --dial-count N
makes it dial N distinct addresses 127.1.x.y:P once seeding and told `dial` on stdin (one new peer each, so no
reconnect delay applies), with connection_speed raised to N per second, and print
`dialled n=N seconds=S` when it has handed them all to the session; rss_kib=K lines answer
a line `rss` on stdin with the process's VmRSS.
"""
import argparse, os, select, sys, time
import libtorrent as lt

ap = argparse.ArgumentParser()
ap.add_argument('--dir', required=True)
ap.add_argument('--size', type=int, default=256 * 1024)
ap.add_argument('--seconds', type=float, default=30)
ap.add_argument('--connect')
ap.add_argument('--connections-limit', type=int)
ap.add_argument('--listen-queue', type=int)
ap.add_argument('--dial-port', type=int)
ap.add_argument('--dial-count', type=int, default=0)
a = ap.parse_args()

os.makedirs(a.dir, exist_ok=True)
path = os.path.join(os.path.abspath(a.dir), 'payload.bin')
with open(path, 'wb') as f:
    f.write(os.urandom(a.size))
fs = lt.file_storage()
lt.add_files(fs, path)
ct = lt.create_torrent(fs, 0, flags=lt.create_torrent.v1_only)
lt.set_piece_hashes(ct, os.path.dirname(path))
ti = lt.torrent_info(ct.generate())

settings = {
    'listen_interfaces': '127.0.0.1:0',
    'enable_upnp': False, 'enable_natpmp': False, 'enable_lsd': False, 'enable_dht': False,
    'dht_bootstrap_nodes': '',
    # Every peer is 127.0.0.1: without this a second connection from it is closed.
    'allow_multiple_connections_per_ip': True,
    # Dial in plain TCP at once (no uTP SYN, no MSE/PE attempt first).
    'enable_outgoing_utp': False, 'enable_incoming_utp': False,
    'in_enc_policy': int(lt.enc_policy.enabled),
    'out_enc_policy': int(lt.enc_policy.disabled),
    'allowed_enc_level': int(lt.enc_level.both),
    'alert_mask': int(lt.alert.category_t.error_notification
                      | lt.alert.category_t.status_notification
                      | lt.alert.category_t.connect_notification
                      | lt.alert.category_t.peer_notification),
}
if a.connections_limit:
    settings['connections_limit'] = a.connections_limit
if a.listen_queue:
    settings['listen_queue_size'] = a.listen_queue
if a.dial_port:
    settings.update({
        'connection_speed': max(a.dial_count, 30),
        'torrent_connect_boost': max(a.dial_count, 30),
        'max_peerlist_size': a.dial_count + 100,
        'connections_limit': max(a.dial_count + 100, settings.get('connections_limit', 200)),
    })
ses = lt.session(settings)
atp = lt.add_torrent_params()
atp.ti, atp.save_path = ti, os.path.dirname(path)
h = ses.add_torrent(atp)
print(f'info_hash={ti.info_hashes().v1}', flush=True)

t0 = time.time()
port_printed = seeding = False
seen = set()
dial_now = False
while time.time() - t0 < a.seconds:
    r, _, _ = select.select([sys.stdin], [], [], 0.005 if a.dial_port else 0.05)
    if r:
        got = sys.stdin.buffer.read1(4096)
        if not got:
            break  # stdin closed: the test is done
        if b'rss' in got:
            with open('/proc/self/status') as st:
                kib = next(l.split()[1] for l in st if l.startswith('VmRSS:'))
            print(f'rss_kib={kib}', flush=True)
        if b'dial' in got:
            dial_now = True
    for al in ses.pop_alerts():
        if isinstance(al, lt.listen_failed_alert):
            print(f'error {al.message()}', flush=True)
            sys.exit(1)
    if not port_printed and ses.listen_port():
        print(f'port={ses.listen_port()}', flush=True)
        port_printed = True
    if port_printed and not seeding and h.status().is_seeding:
        seeding = True
        print('seeding', flush=True)
        if a.connect:
            host, p = a.connect.rsplit(':', 1)
            h.connect_peer((host, int(p)))
    if a.dial_port and seeding and dial_now:
        dial_now = False
        d0 = time.time()
        for i in range(a.dial_count):
            h.connect_peer((f'127.1.{i // 250}.{1 + i % 250}', a.dial_port))
        print(f'dialled n={a.dial_count} seconds={time.time() - d0:.3f}', flush=True)
    for p in ([] if a.dial_port else h.get_peer_info()):
        pid = str(p.pid)  # hex
        key = (pid, p.ip)
        if key not in seen and pid.strip('0'):
            seen.add(key)
            print(f'peer pid={pid} addr={p.ip[0]}:{p.ip[1]}', flush=True)
