#!/usr/bin/env python3
"""An 802.1Q switch in user space, for tests: it stands in for a Linux bridge with
vlan_filtering, which the kernel of this project's test machines lacks (no 8021q, no bridge
VLAN filtering; their QEMU guests have both).

usage: vlanswitch.py CONFIG.json   (run inside the test's network namespace, as root)

CONFIG: {"ports": {"IFNAME": {"mode": "trunk", "vlans": [120, 122], "native": 0, "mtu": 9000},
                   "IFNAME": {"mode": "access", "vlan": 120, "mtu": 1500}, ...}}
Each port is an existing interface of the namespace (a QEMU tap, one end of a veth pair),
read and written through an AF_PACKET socket. A trunk port takes frames tagged with one of
its VLANs (untagged ones only when it has a native VLAN) and sends them tagged; an access
port takes and sends untagged frames of its VLAN. A frame whose payload exceeds a port's MTU
is dropped there, as a switch port does. MAC learning per VLAN; unknown and broadcast
destinations are flooded to the VLAN's other ports. SIGHUP reads CONFIG again (a VLAN left
out of a trunk, a port's MTU changed); the learned table is kept for ports that stay.
Prints "vlanswitch: ready" once every port is open. Never sends anything it did not receive.
"""
import json
import os
import select
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4
PACKET_OUTGOING = 4
AUX = struct.Struct("IIIHHHH")


def load(path):
    with open(path) as f:
        ports = json.load(f)["ports"]
    for name, p in ports.items():
        if p.get("mode") not in ("trunk", "access"):
            sys.exit(f"vlanswitch: port {name}: mode must be trunk or access")
    return ports


class Switch:
    def __init__(self, path):
        self.path = path
        self.ports = {}
        self.socks = {}
        self.fdb = {}  # (vlan, mac) -> port
        self.reload()

    def reload(self):
        self.ports = load(self.path)
        for name in list(self.socks):
            if name not in self.ports:
                self.socks.pop(name).close()
        for name in self.ports:
            if name in self.socks:
                continue
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            s.bind((name, 0))
            s.setblocking(False)
            self.socks[name] = s
        self.fdb = {k: v for k, v in self.fdb.items() if v in self.ports}

    def ingress_vlan(self, port, tagged_vid):
        p = self.ports[port]
        if p["mode"] == "access":
            return p["vlan"] if tagged_vid is None else None
        if tagged_vid is None:
            return p.get("native") or None
        return tagged_vid if tagged_vid in p.get("vlans", []) else None

    def carries(self, port, vid):
        p = self.ports[port]
        if p["mode"] == "access":
            return p["vlan"] == vid
        return vid in p.get("vlans", []) or p.get("native") == vid

    def send(self, port, vid, dst, src, ethertype, payload):
        p = self.ports[port]
        if len(payload) > p.get("mtu", 1500):
            return
        if p["mode"] == "access" or p.get("native") == vid:
            frame = dst + src + struct.pack("!H", ethertype) + payload
        else:
            frame = dst + src + struct.pack("!HH", 0x8100, vid) + struct.pack("!H", ethertype) + payload
        try:
            self.socks[port].send(frame)
        except OSError:
            pass  # the port's link is down, or the frame too big for the interface

    def receive(self, port):
        s = self.socks[port]
        try:
            data, anc, _, addr = s.recvmsg(65536, socket.CMSG_SPACE(AUX.size))
        except BlockingIOError:
            return
        if addr[2] == PACKET_OUTGOING or len(data) < 14:
            return  # what we (or the namespace's stack) sent on this port
        vid = None
        for level, kind, value in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(value) >= AUX.size:
                status, _, _, _, _, tci, tpid = AUX.unpack(value[:AUX.size])
                if status & TP_STATUS_VLAN_VALID:
                    vid = tci & 0x0FFF
        dst, src = data[0:6], data[6:12]
        (ethertype,) = struct.unpack("!H", data[12:14])
        payload = data[14:]
        if vid is None and ethertype == 0x8100 and len(data) >= 18:
            (tci, ethertype) = struct.unpack("!HH", data[14:18])
            vid = tci & 0x0FFF
            payload = data[18:]
        if len(payload) > self.ports[port].get("mtu", 1500):
            return
        vlan = self.ingress_vlan(port, vid)
        if vlan is None:
            return
        self.fdb[(vlan, src)] = port
        out = self.fdb.get((vlan, dst))
        if out is not None and not (dst[0] & 1):
            if out != port and self.carries(out, vlan):
                self.send(out, vlan, dst, src, ethertype, payload)
            return
        for other in self.ports:
            if other != port and self.carries(other, vlan):
                self.send(other, vlan, dst, src, ethertype, payload)

    def run(self):
        reload = []
        signal.signal(signal.SIGHUP, lambda *_: reload.append(1))
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        print("vlanswitch: ready", flush=True)
        while True:
            if reload:
                reload.clear()
                self.reload()
                print("vlanswitch: reloaded", flush=True)
            try:
                ready, _, _ = select.select(list(self.socks.values()), [], [], 0.5)
            except InterruptedError:
                continue
            by_fd = {s.fileno(): n for n, s in self.socks.items()}
            for s in ready:
                name = by_fd.get(s.fileno())
                if name is not None:
                    self.receive(name)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    os.umask(0o077)
    Switch(sys.argv[1]).run()
