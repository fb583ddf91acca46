#!/usr/bin/python3
"""usage: /usr/bin/python3 lt_recheck.py TORRENT=SAVE_PATH...

Like lt_check.py (same loopback-only settings: trackers and web seeds overridden to none,
DHT/LSD/UPnP/NAT-PMP off), but prints the pieces libtorrent has after its full hash check, one
line per argument:  TORRENT=SAVE_PATH pieces=0110...  (1 = have, in libtorrent's piece order)
or  TORRENT=SAVE_PATH error=MESSAGE
The same torrent may be given with several save paths: a session holds a torrent once, so each
repeat goes to another session.
"""
import os, sys, time
import libtorrent as lt

settings = {
    'listen_interfaces': '127.0.0.1:0', 'listen_system_port_fallback': False,
    'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'dht_bootstrap_nodes': '', 'alert_mask': 0,
}
sessions = []  # (session, set of info hashes it holds)
handles = []
for arg in sys.argv[1:]:
    path, _, save = arg.partition('=')
    try:
        ti = lt.torrent_info(path)
    except RuntimeError as e:
        print(f'{arg} error={e}', flush=True)
        continue
    atp = lt.add_torrent_params()
    atp.ti, atp.save_path = ti, os.path.abspath(save)
    atp.trackers, atp.url_seeds = [], []
    atp.flags = (atp.flags | lt.torrent_flags.override_trackers | lt.torrent_flags.override_web_seeds) \
        & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
    key = str(ti.info_hashes())
    free = [x for x in sessions if key not in x[1]]
    if not free:
        sessions.append((lt.session(settings), set()))
        free = sessions[-1:]
    ses, held = free[0]
    held.add(key)
    handles.append((arg, ses.add_torrent(atp)))

checking = (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data,
            lt.torrent_status.allocating)
t0 = time.time()
while time.time() - t0 < 40:
    sts = [h.status() for _, h in handles]
    if all(s.state not in checking and s.has_metadata for s in sts):
        break
    time.sleep(0.05)
for arg, h in handles:
    s = h.status(lt.status_flags_t.query_pieces)
    if s.errc.value() != 0:
        print(f'{arg} error={s.errc.message()}', flush=True)
        continue
    bits = ''.join('1' if p else '0' for p in s.pieces)
    print(f'{arg} pieces={bits}', flush=True)
