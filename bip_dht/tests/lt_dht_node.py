#!/usr/bin/python3
"""libtorrent DHT nodes on loopback, driven line by line from bip_dht/tests/libtorrent.rs.

usage: /usr/bin/python3 lt_dht_node.py --host 127.0.0.1|::1 --ports P0,P1,... --dir DIR

Starts one libtorrent session per port on HOST (DHT on, nothing else reaches out: no routers,
no UPnP/NAT-PMP/LSD), prints `started N`, then answers commands read from stdin, one reply
line each (lines starting with `#` are logs):

  mesh SECS               add the sessions to each other until every table holds the others
                          -> `mesh SIZE...` (dht.dht_nodes of each session)
  spawn PORT              one more session (fresh, empty table) -> `spawned INDEX`
  add I HOST PORT         session I (or `all`) pings HOST:PORT (add_dht_node) -> `ok`
  table I SECS MIN        wait until session I's table holds MIN nodes -> `table SIZE`
  announce I HEX          session I adds a magnet for HEX, so it announces its port -> `ok`
  lookup I HEX SECS WANT  session I runs dht_get_peers every 0.5 s until WANT (HOST:PORT,
                          `[v6]:PORT`) is among the peers or SECS pass -> `peers ADDR...`
  has HOST PORT           for each session: the node id under which HOST:PORT is in its
                          routing table (dht_live_nodes), or `-` -> `has ID|- ...`
  putimm I TEXT SECS      session I stores the string TEXT (dht_put_immutable_item)
                          -> `put TARGET NUM_SUCCESS` (0 when no dht_put_alert within SECS)
  getimm I TARGET SECS    session I looks the item up (dht_get_immutable_item)
                          -> `item HEX` (hex of the value's bytes) or `item -`
  putmut I SK PK SALT TEXT SECS
                          session I stores TEXT as a mutable item signed with the 64-byte
                          expanded secret key SK (hex) of public key PK (hex), SALT `-` for
                          none; libtorrent picks seq = highest found + 1 -> `put SEQ NUM_SUCCESS`
  getmut I PK SALT SECS   session I looks the mutable item up (dht_get_mutable_item) until an
                          authoritative answer or SECS -> `mut SEQ HEX` (highest seq) or `mut -`
  sample I HOST PORT SECS session I sends sample_infohashes to HOST:PORT
                          -> `samples NUM INTERVAL HEX...` or `samples -`
  quit

libtorrent 2.0.8 needs dht_restrict_routing_ips off on loopback (every node has the same IP);
session.dht_announce() cannot be called from its Python bindings, hence the magnet.
"""
import argparse
import sys
import time
import warnings

import libtorrent as lt

sys.dont_write_bytecode = True
warnings.simplefilter('ignore', DeprecationWarning)  # session.dht_state()

ap = argparse.ArgumentParser()
ap.add_argument('--host', required=True)
ap.add_argument('--ports', required=True)
ap.add_argument('--dir', required=True)
args = ap.parse_args()
HOST = args.host
V6 = ':' in HOST


def out(line):
    print(line, flush=True)


def listen(port):
    return f'[{HOST}]:{port}' if V6 else f'{HOST}:{port}'


def new_session(port):
    cat = lt.alert.category_t
    return lt.session({
        'listen_interfaces': listen(port),
        'listen_system_port_fallback': False,
        'enable_upnp': False, 'enable_natpmp': False, 'enable_lsd': False,
        'enable_dht': True,
        'dht_bootstrap_nodes': '',
        'dht_restrict_routing_ips': False,
        'dht_restrict_search_ips': False,
        'dht_ignore_dark_internet': False,
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'alert_mask': int(cat.error_notification | cat.status_notification
                          | cat.dht_notification | cat.dht_operation_notification),
    })


ports = [int(p) for p in args.ports.split(',')]
sessions = [new_session(p) for p in ports]
ports_of = list(ports)


def table_size(s):
    """dht.dht_nodes of session s (-1 when no stats alert came within 2 s)."""
    s.post_session_stats()
    end = time.time() + 2
    while time.time() < end:
        s.wait_for_alert(100)
        for al in s.pop_alerts():
            if isinstance(al, lt.session_stats_alert):
                return al.values['dht.dht_nodes']
    return -1


def fmt(ip, port):
    return f'[{ip}]:{port}' if ':' in ip else f'{ip}:{port}'


def own_ids(s):
    """This session's DHT node ids (one per listen socket) from its saved DHT state."""
    st = s.dht_state()
    return [e[:20] for e in st.get(b'node-id', [])]


def live_nodes(s, nid):
    s.dht_live_nodes(lt.sha1_hash(nid))
    end = time.time() + 3
    while time.time() < end:
        s.wait_for_alert(100)
        for al in s.pop_alerts():
            if isinstance(al, lt.dht_live_nodes_alert):
                return [(n['endpoint'], bytes(n['nid'].to_bytes())) for n in al.nodes]
    return []


def wait_alert(s, cls, secs, pred=lambda al: True):
    end = time.time() + secs
    while time.time() < end:
        s.wait_for_alert(100)
        for al in s.pop_alerts():
            if isinstance(al, cls) and pred(al):
                return al
    return None


def item_bytes(item):
    """The value of a dht item alert's entry, as bytes."""
    if isinstance(item, dict) and 'value' in item:
        item = item['value']
    if isinstance(item, str):
        item = item.encode()
    return bytes(item)


def which(i):
    return sessions if i == 'all' else [sessions[int(i)]]


out(f'started {len(sessions)}')
for line in sys.stdin:
    cmd = line.split()
    if not cmd:
        continue
    op = cmd[0]
    try:
        if op == 'mesh':
            end = time.time() + float(cmd[1])
            want = len(sessions) - 1
            while True:
                for i, s in enumerate(sessions):
                    for j, p in enumerate(ports_of):
                        if i != j:
                            s.add_dht_node((HOST, p))
                time.sleep(0.2)
                sizes = [table_size(s) for s in sessions]
                if min(sizes) >= want or time.time() > end:
                    break
            out('mesh ' + ' '.join(map(str, sizes)))
        elif op == 'spawn':
            sessions.append(new_session(int(cmd[1])))
            ports_of.append(int(cmd[1]))
            out(f'spawned {len(sessions) - 1}')
        elif op == 'add':
            for s in which(cmd[1]):
                s.add_dht_node((cmd[2], int(cmd[3])))
            out('ok')
        elif op == 'table':
            s, end, need = sessions[int(cmd[1])], time.time() + float(cmd[2]), int(cmd[3])
            n = table_size(s)
            while n < need and time.time() < end:
                time.sleep(0.1)
                n = table_size(s)
            out(f'table {n}')
        elif op == 'announce':
            atp = lt.parse_magnet_uri(f'magnet:?xt=urn:btih:{cmd[2]}')
            atp.save_path = args.dir
            sessions[int(cmd[1])].add_torrent(atp)
            out('ok')
        elif op == 'lookup':
            s, ih = sessions[int(cmd[1])], lt.sha1_hash(bytes.fromhex(cmd[2]))
            end, want = time.time() + float(cmd[3]), cmd[4]
            seen, last = [], 0.0
            while time.time() < end and want not in seen:
                if time.time() - last > 0.5:
                    s.dht_get_peers(ih)
                    last = time.time()
                s.wait_for_alert(100)
                for al in s.pop_alerts():
                    if isinstance(al, lt.dht_get_peers_reply_alert) and al.info_hash == ih:
                        for ip, port in al.peers():
                            if fmt(ip, port) not in seen:
                                seen.append(fmt(ip, port))
            out(' '.join(['peers'] + seen))
        elif op == 'has':
            target = (cmd[1], int(cmd[2]))
            res = []
            for s in sessions:
                found = '-'
                for nid in own_ids(s):
                    for ep, their in live_nodes(s, nid):
                        if (ep[0], ep[1]) == target:
                            found = their.hex()
                res.append(found)
            out(' '.join(['has'] + res))
        elif op == 'putimm':
            s = sessions[int(cmd[1])]
            target = s.dht_put_immutable_item(cmd[2])
            al = wait_alert(s, lt.dht_put_alert, float(cmd[3]),
                            lambda al: al.target == target)
            out(f'put {target} {al.num_success if al else 0}')
        elif op == 'getimm':
            s, target = sessions[int(cmd[1])], lt.sha1_hash(bytes.fromhex(cmd[2]))
            s.dht_get_immutable_item(target)
            al = wait_alert(s, lt.dht_immutable_item_alert, float(cmd[3]),
                            lambda al: al.target == target)
            out(f'item {item_bytes(al.item).hex()}' if al else 'item -')
        elif op == 'putmut':
            s = sessions[int(cmd[1])]
            sk, pk = bytes.fromhex(cmd[2]), bytes.fromhex(cmd[3])
            salt = '' if cmd[4] == '-' else cmd[4]
            s.dht_put_mutable_item(sk, pk, cmd[5], salt)
            al = wait_alert(s, lt.dht_put_alert, float(cmd[6]),
                            lambda al: bytes(al.public_key) == pk)
            out(f'put {al.seq} {al.num_success}' if al else 'put - 0')
        elif op == 'getmut':
            s, pk = sessions[int(cmd[1])], bytes.fromhex(cmd[2])
            salt = '' if cmd[3] == '-' else cmd[3]
            s.dht_get_mutable_item(pk, salt)
            end, best = time.time() + float(cmd[4]), None
            while time.time() < end:
                al = wait_alert(s, lt.dht_mutable_item_alert, end - time.time(),
                                lambda al: bytes(al.key) == pk)
                if al is None:
                    break
                if best is None or al.seq > best[0]:
                    best = (al.seq, item_bytes(al.item))
                if al.authoritative:
                    break
            out(f'mut {best[0]} {best[1].hex()}' if best else 'mut -')
        elif op == 'sample':
            s = sessions[int(cmd[1])]
            s.dht_sample_infohashes((cmd[2], int(cmd[3])), lt.sha1_hash(bytes(20)))
            al = wait_alert(s, lt.dht_sample_infohashes_alert, float(cmd[4]),
                            lambda al: al.endpoint[1] == int(cmd[3]))
            if al is None:
                out('samples -')
            else:
                hashes = [str(h) for h in al.samples]
                out(' '.join(['samples', str(al.num_infohashes),
                              str(int(al.interval.total_seconds()))] + hashes))
        elif op == 'quit':
            out('bye')
            break
        else:
            out(f'error unknown command {op}')
    except Exception as e:  # one reply line per command, also on a failure
        out(f'error {type(e).__name__}: {e}')
