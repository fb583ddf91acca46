#!/usr/bin/python3
"""bip_utracker interop helper: a libtorrent 2.0 seeder on 127.0.0.1.

usage: lt_seed.py DIR PORT SECONDS [--tracker URL] [--create-only] [--size BYTES]

Writes DIR/payload.bin (random) and DIR/payload.bin.torrent (v1, announcing to URL) unless
they exist, prints "info_hash=<hex>" and "torrent=<path>", then (unless --create-only) seeds
on TCP PORT with loopback-only settings, printing tracker alerts, for SECONDS.
"""
import argparse, os, sys, time
import libtorrent as lt

ap = argparse.ArgumentParser()
ap.add_argument('dir')
ap.add_argument('port', type=int)
ap.add_argument('seconds', type=float)
ap.add_argument('--tracker')
ap.add_argument('--create-only', action='store_true')
ap.add_argument('--size', type=int, default=2 << 20)
a = ap.parse_args()

os.makedirs(a.dir, exist_ok=True)
path = os.path.join(os.path.abspath(a.dir), 'payload.bin')
tpath = path + '.torrent'
if not os.path.exists(tpath):
    with open(path, 'wb') as f:
        f.write(os.urandom(a.size))
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, 0, flags=lt.create_torrent.v1_only)
    if a.tracker:
        ct.add_tracker(a.tracker, 0)
    lt.set_piece_hashes(ct, os.path.dirname(path))
    with open(tpath, 'wb') as f:
        f.write(lt.bencode(ct.generate()))
ti = lt.torrent_info(tpath)
print(f'info_hash={ti.info_hashes().v1}', flush=True)
print(f'torrent={tpath}', flush=True)
if a.create_only:
    sys.exit(0)

ses = lt.session({
    'listen_interfaces': f'127.0.0.1:{a.port}',
    'listen_system_port_fallback': False,
    'enable_upnp': False, 'enable_natpmp': False, 'enable_lsd': False, 'enable_dht': False,
    'allow_multiple_connections_per_ip': True,
    'enable_outgoing_utp': False, 'enable_incoming_utp': False,
    'in_enc_policy': int(lt.enc_policy.enabled), 'out_enc_policy': int(lt.enc_policy.disabled),
    'allowed_enc_level': int(lt.enc_level.both),
    'announce_to_all_trackers': True, 'announce_to_all_tiers': True,
    'alert_mask': int(lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
                      | lt.alert.category_t.tracker_notification | lt.alert.category_t.peer_notification),
})
atp = lt.add_torrent_params()
atp.ti, atp.save_path = ti, os.path.dirname(path)
h = ses.add_torrent(atp)
t0 = time.time()
while time.time() - t0 < a.seconds:
    ses.wait_for_alert(250)
    for al in ses.pop_alerts():
        if isinstance(al, (lt.tracker_reply_alert, lt.tracker_error_alert, lt.listen_failed_alert,
                           lt.peer_connect_alert, lt.torrent_error_alert)):
            print(f'[{time.time() - t0:5.2f}s] {type(al).__name__}: {al.message()}', flush=True)
        if isinstance(al, lt.listen_failed_alert):
            sys.exit(1)
