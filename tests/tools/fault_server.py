#!/usr/bin/env python3
"""A small HTTP/1.1 file server that injects faults, for the repository mirror's tests.

Usage: fault_server.py ROOT [--log FILE] [--ignore-stdin]

Binds 127.0.0.1 on an ephemeral port, prints the port on the first stdout line, and serves
the files under ROOT. It exits on SIGTERM/SIGINT or when its stdin closes (unless
--ignore-stdin). It never contacts anything else. The first path segment picks the
behaviour, the rest is the file's path under ROOT:

  /ok/<path>          normal; Range: bytes=N- and bytes=N-M give 206 with Content-Range
  /404/<path>         always 404            /500/<path>   always 500
  /flaky<N>/<path>    the first N requests for the path get 500, then normal
  /truncate/<path>    first request: full Content-Length, half the body, then close;
                      later requests normal (Range honoured, so a resume completes)
  /reset/<path>       first request: the connection is reset (RST) without a response
  /slow/<path>?ms=200 the body in small pieces spread over ms milliseconds (default 200)
  /corrupt/<path>     the file with one byte flipped
  /redirect/<path>    302 to /ok/<path>
  /norange/<path>     normal, but ignores Range (always 200 with the whole file)
  /delay<ms>/<path>   waits ms milliseconds before answering normally

Every request is logged as one line on stderr (and appended to --log FILE):
  GET /truncate/big.bin range=bytes=524288- status=206 inflight=1
where inflight counts requests being handled at that moment, counting this one.
"""
import argparse
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULT = re.compile(r"(ok|404|500|truncate|reset|slow|corrupt|redirect|norange|flaky\d+|delay\d+)")
RANGE = re.compile(r"bytes=(\d+)-(\d*)")


class State:
    def __init__(self, root, log_path):
        self.root = os.path.realpath(root)
        self.lock = threading.Lock()
        self.counts = {}
        self.inflight = 0
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None

    def bump(self, key):
        """How many requests came for key before this one."""
        with self.lock:
            seen = self.counts.get(key, 0)
            self.counts[key] = seen + 1
            return seen

    def log(self, line):
        with self.lock:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
            if self.log_file:
                self.log_file.write(line + "\n")
                self.log_file.flush()

    def resolve(self, rel):
        full = os.path.realpath(os.path.join(self.root, rel))
        if os.path.commonpath([self.root, full]) != self.root or not os.path.isfile(full):
            return None
        return full


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault_server/1"
    disable_nagle_algorithm = True  # no 40 ms stalls between headers and body on keep-alive

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass  # every request is logged once, by note()

    def do_GET(self):
        self.handle_request(send_body=True)

    def do_HEAD(self):
        self.handle_request(send_body=False)

    def handle_request(self, send_body):
        state = self.server.state
        with state.lock:
            state.inflight += 1
            self.inflight = state.inflight
        try:
            self.dispatch(send_body)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        finally:
            with state.lock:
                state.inflight -= 1

    def note(self, status):
        rng = self.headers.get("Range") or "-"
        self.server.state.log(
            f"{self.command} {self.path} range={rng} status={status} inflight={self.inflight}")

    def send_plain(self, code, send_body, extra=()):
        status = HTTPStatus(code)
        body = f"{status.value} {status.phrase}\n".encode()
        self.note(code)
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def dispatch(self, send_body):
        state = self.server.state
        split = urllib.parse.urlsplit(self.path)
        parts = split.path.lstrip("/").split("/", 1)
        if len(parts) != 2 or not FAULT.fullmatch(parts[0]):
            self.send_plain(400, send_body)
            return
        fault, rel = parts[0], urllib.parse.unquote(parts[1])
        query = urllib.parse.parse_qs(split.query)
        if fault == "404":
            self.send_plain(404, send_body)
            return
        if fault == "500":
            self.send_plain(500, send_body)
            return
        if fault == "redirect":
            target = "/ok/" + parts[1] + ("?" + split.query if split.query else "")
            self.send_plain(302, send_body, [("Location", target)])
            return
        path = state.resolve(rel)
        if path is None:
            self.send_plain(404, send_body)
            return
        options = {}
        if fault.startswith("flaky"):
            if state.bump((fault, rel)) < int(fault[5:]):
                self.send_plain(500, send_body)
                return
        elif fault == "truncate":
            options["truncate"] = state.bump((fault, rel)) == 0
        elif fault == "reset":
            if state.bump((fault, rel)) == 0:
                self.reset()
                return
        elif fault == "slow":
            options["slow_ms"] = int(query.get("ms", ["200"])[0])
        elif fault == "corrupt":
            options["corrupt"] = True
        elif fault == "norange":
            options["ignore_range"] = True
        elif fault.startswith("delay"):
            time.sleep(int(fault[5:]) / 1000)
        self.serve(path, send_body, **options)

    def reset(self):
        """Closes the connection with a RST before any response."""
        self.note("reset")
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()  # the last reference: the descriptor closes, linger 0 sends RST

    def serve(self, path, send_body, truncate=False, slow_ms=0, corrupt=False,
              ignore_range=False):
        with open(path, "rb") as f:
            data = f.read()
        if corrupt and data:
            flipped = bytearray(data)
            flipped[len(data) // 2] ^= 0xFF
            data = bytes(flipped)
        size = len(data)
        start, end, code = 0, size - 1, 200
        rng = self.headers.get("Range")
        if rng and not ignore_range:
            m = RANGE.fullmatch(rng.strip())
            if m:
                start = int(m.group(1))
                if m.group(2):
                    end = min(int(m.group(2)), size - 1)
                if start >= size or start > end:
                    self.send_plain(416, send_body, [("Content-Range", f"bytes */{size}")])
                    return
                code = 206
        body = data[start:end + 1]
        self.note(f"{code}{'-truncated' if truncate else ''}")
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        if code == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if not send_body:
            return
        if truncate:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if slow_ms > 0 and body:
            pieces = min(20, len(body))
            step = -(-len(body) // pieces)
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                self.wfile.flush()
                if i + step < len(body):
                    time.sleep(slow_ms / 1000 / pieces)
            return
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # do not wait for idle keep-alive connections when stopping
    request_queue_size = 128


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root")
    parser.add_argument("--log", help="also append the request log to this file")
    parser.add_argument("--ignore-stdin", action="store_true",
                        help="keep running when stdin closes (stop with SIGTERM)")
    args = parser.parse_args()
    if not os.path.isdir(args.root):
        sys.exit(f"{args.root}: not a folder")

    server = Server(("127.0.0.1", 0), Handler)
    server.state = State(args.root, args.log)
    # Stop at once: the log is flushed line by line and nothing else needs tidying.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))

    if not args.ignore_stdin:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read1(4096):
                    pass
            except OSError:
                pass
            os._exit(0)
        threading.Thread(target=watch_stdin, daemon=True).start()

    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
