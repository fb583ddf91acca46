#!/usr/bin/python3
"""usage: /usr/bin/python3 lt_check.py TORRENT=SAVE_PATH...

Loads each torrent in libtorrent (trackers and web seeds overridden to none, so nothing is
contacted; listening on 127.0.0.1 only, DHT/LSD/UPnP/NAT-PMP off), with save_path pointing at
the data, lets libtorrent hash-check it, waits until checking is over (at most 40 s), and prints
one line per torrent:  TORRENT have=N total=M v1=HEX|- v2=HEX|-
A torrent libtorrent rejects prints:  TORRENT error=MESSAGE
"""
import os, sys, time
import libtorrent as lt

settings = {
    'listen_interfaces': '127.0.0.1:0', 'listen_system_port_fallback': False,
    'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'dht_bootstrap_nodes': '', 'alert_mask': 0,
}
ses = lt.session(settings)
handles = []
for arg in sys.argv[1:]:
    path, _, save = arg.partition('=')
    try:
        ti = lt.torrent_info(path)
    except RuntimeError as e:
        print(f'{path} error={e}', flush=True)
        continue
    atp = lt.add_torrent_params()
    atp.ti, atp.save_path = ti, os.path.abspath(save)
    atp.trackers, atp.url_seeds = [], []
    atp.flags = (atp.flags | lt.torrent_flags.override_trackers | lt.torrent_flags.override_web_seeds) \
        & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
    handles.append((path, ti, ses.add_torrent(atp)))

checking = (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data)
t0 = time.time()
while time.time() - t0 < 40:
    sts = [h.status() for _, _, h in handles]
    if all(s.state not in checking and s.has_metadata and
           (s.is_seeding or s.state in (lt.torrent_status.downloading,)) for s in sts):
        break
    time.sleep(0.05)
for path, ti, h in handles:
    s = h.status()
    ih = ti.info_hashes()
    v1 = str(ih.v1) if ih.has_v1() else '-'
    v2 = str(ih.v2) if ih.has_v2() else '-'
    print(f'{path} have={s.num_pieces} total={ti.num_pieces()} v1={v1} v2={v2}', flush=True)
