#!/usr/bin/env python3
"""The attacker of tests/integration/attacks.sh: what someone on the provisioning network, or
holding one node's files, can send to the controller's enrolment service (TCP and UDP, port
7447 by default) and try on its files. Standard library and python3-cryptography only.

Each subcommand prints one summary line ("key=value ...") that the test parses, and exits 0
when it could run (what the server did is for the test to judge), except `open-sealed`, which
exits 0 only when it opened the file.

  derive SECRET_HEX NAME        HKDF node key of NAME (node/credentials.cpp), hex
  controller-key SECRET_HEX     the controller's Ed25519 public key for that secret, hex
  open-sealed FILE DIR...       try every 64-hex value found in any file under DIRs as the
                                site secret (and as the sealing key itself) on deploy.sealed
  flood HOST PORT --idle N --seconds S [--names a,b] [--sources ADDR,ADDR...]
                                hold N idle TCP connections (from the sources in turn,
                                reopened when the server closes one) and send forged/garbage
                                beacons to HOST:PORT/udp for S s
  frames HOST PORT --count N    N sessions of empty frames (length 0, then "{}"), one hello
                                whose `type` and `node` carry a newline and a forged log line
  first-frame HOST PORT [--source ADDR]
                                connect, send nothing: seconds until the server closes
"""
import argparse
import json
import os
import re
import select
import socket
import struct
import sys
import time

from airstrap_keys import controller_public_key, hkdf, node_key

FORGED = "FORGED-LINE controller-node: enrolled by the attacker"


def controller_key(secret: bytes) -> bytes:
    return controller_public_key(secret)


def open_sealed(path, dirs):
    """deploy.sealed is hex(nonce12 ‖ ciphertext ‖ tag16), AES-256-GCM, AAD "airstrap deploy
    config v1", key HKDF(secret, "airstrap", "deploy config") (node/deploy_config.cpp)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.exceptions import InvalidTag
    sealed = bytes.fromhex(open(path).read().strip())
    candidates = {}

    def files_under(d):
        if os.path.isfile(d):
            yield d
        for top, _, files in os.walk(d):
            for f in files:
                yield os.path.join(top, f)

    for d in dirs:
        for p in files_under(d):
            if os.path.islink(p) or not os.path.isfile(p) or os.path.samefile(p, path):
                continue
            try:
                text = open(p, "rb").read(1 << 20).decode("latin-1")
            except OSError:
                continue
            for m in re.findall(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])", text):
                candidates.setdefault(m.lower(), p)
    tried = 0
    for hexkey, where in candidates.items():
        raw = bytes.fromhex(hexkey)
        for key in (hkdf(raw, b"airstrap", b"deploy config"), raw):
            tried += 1
            try:
                AESGCM(key).decrypt(sealed[:12], sealed[12:], b"airstrap deploy config v1")
                print(f"opened=1 tried={tried} key_from={where}")
                return 0
            except InvalidTag:
                pass
    print(f"opened=0 tried={tried} candidates={len(candidates)}")
    return 1


def frame(obj) -> bytes:
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return struct.pack(">I", len(body)) + body


def read_until_closed(s, timeout):
    """Bytes the server sent until it closed (or `timeout` s passed: closed=False)."""
    s.settimeout(0.2)
    got, end = b"", time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return got, True
        if not chunk:
            return got, True
        got += chunk
    return got, False


def cmd_flood(a):
    names = [n for n in a.names.split(",") if n]
    end = time.monotonic() + a.seconds
    conns = []
    opened = closed = refused = 0
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    beacons = 0

    sources = [x for x in a.sources.split(",") if x] or [""]
    turn = 0

    def connect():
        nonlocal opened, refused, turn
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        source = sources[turn % len(sources)]
        turn += 1
        try:
            if source:
                s.bind((source, 0))
            s.connect((a.host, a.port))
        except BlockingIOError:
            pass
        except OSError:
            refused += 1
            s.close()
            return None
        opened += 1
        return s

    while time.monotonic() < end:
        for _ in range(min(a.idle - len(conns), 50)):  # at most ~5000 new ones a second
            s = connect()
            if s is None:
                break
            conns.append(s)
        # a server that closes an idle connection: count it, open another
        r, _, _ = select.select(conns, [], [], 0.01) if conns else ([], [], [])
        for s in r:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed += 1
                conns.remove(s)
                s.close()
        # ~2000 datagrams a second: forged beacons for real nodes and unknown names, garbage
        for _ in range(20):
            kind = beacons % 4
            if kind == 3:
                data = os.urandom(64)
            else:
                name = names[beacons % len(names)] if names and kind < 2 else f"ghost-{beacons}"
                data = json.dumps({"v": 2, "type": "beacon", "node": name,
                                   "nonce": os.urandom(16).hex(),
                                   "mac": os.urandom(32).hex()}).encode()
            try:
                udp.sendto(data, (a.host, a.port))
                if a.broadcast:
                    udp.sendto(data, (a.broadcast, a.port))
            except OSError:
                pass
            beacons += 1
        time.sleep(0.01)
    held = len(conns)
    for s in conns:
        s.close()
    print(f"opened={opened} closed_by_server={closed} connect_failed={refused} "
          f"held_at_end={held} beacons={beacons}")
    return 0


def cmd_frames(a):
    stats = {"empty_sessions": 0, "empty_answered": 0, "newline_answered": 0}
    for i in range(a.count):
        s = socket.create_connection((a.host, a.port), timeout=5)
        try:
            # zero-length frames, then an empty JSON object, as fast as the server reads
            s.sendall(struct.pack(">I", 0) * 64 + frame(b"{}") * 8)
        except OSError:
            pass
        got, _ = read_until_closed(s, 3)
        stats["empty_sessions"] += 1
        stats["empty_answered"] += bool(got)
        s.close()
    hello = {"v": 2, "type": "hello\n" + FORGED, "node": "compute-node\n" + FORGED,
             "purpose": "enrol\r\n" + FORGED, "nonce": os.urandom(32).hex(),
             "host_keys": ["ssh-ed25519 AAAA\n" + FORGED], "body": "{}\x1b[2J\n" + FORGED}
    s = socket.create_connection((a.host, a.port), timeout=5)
    try:
        s.sendall(frame(hello))
    except OSError:
        pass
    got, _ = read_until_closed(s, 3)
    stats["newline_answered"] = int(bool(got))
    s.close()
    print(" ".join(f"{k}={v}" for k, v in stats.items()))
    return 0


def cmd_first_frame(a):
    t0 = time.monotonic()
    try:
        s = socket.create_connection((a.host, a.port), timeout=5,
                                     source_address=(a.source, 0) if a.source else None)
    except OSError as e:
        print(f"connected=0 error={type(e).__name__} seconds={time.monotonic() - t0:.2f}")
        return 0
    got, closed = read_until_closed(s, a.timeout)
    print(f"connected=1 closed={int(closed)} answered={int(bool(got))} "
          f"seconds={time.monotonic() - t0:.2f}")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("derive")
    d.add_argument("secret")
    d.add_argument("name")
    c = sub.add_parser("controller-key")
    c.add_argument("secret")
    o = sub.add_parser("open-sealed")
    o.add_argument("file")
    o.add_argument("dirs", nargs="+")
    f = sub.add_parser("flood")
    f.add_argument("host")
    f.add_argument("port", type=int)
    f.add_argument("--idle", type=int, default=300)
    f.add_argument("--seconds", type=float, default=30)
    f.add_argument("--names", default="")
    f.add_argument("--broadcast", default="")
    f.add_argument("--sources", default="", help="local addresses to connect from, in turn")
    fr = sub.add_parser("frames")
    fr.add_argument("host")
    fr.add_argument("port", type=int)
    fr.add_argument("--count", type=int, default=20)
    ff = sub.add_parser("first-frame")
    ff.add_argument("host")
    ff.add_argument("port", type=int)
    ff.add_argument("--timeout", type=float, default=12)
    ff.add_argument("--source", default="", help="the local address to connect from")
    a = p.parse_args()
    if a.cmd == "derive":
        print(node_key(bytes.fromhex(a.secret), a.name).hex())
        return 0
    if a.cmd == "controller-key":
        print(controller_key(bytes.fromhex(a.secret)).hex())
        return 0
    if a.cmd == "open-sealed":
        return open_sealed(a.file, a.dirs)
    return {"flood": cmd_flood, "frames": cmd_frames, "first-frame": cmd_first_frame}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
