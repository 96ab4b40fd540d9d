#!/usr/bin/env python3
"""An HTTP/1.1 proxy for gantry's fault-injection tests, placed between gantry and
the registry. For each request, at random (seeded, so a run can be replayed):
  - reset: read part of the request body, then reset the connection (mid-chunk);
  - 500, 503 or 429 (with Retry-After: 0 or 1) without forwarding;
  - delay the answer by 50-400 ms;
otherwise forward it unchanged (Host kept, so the registry's Location headers point
back at the proxy). Bounded: after --max-faults faults it only forwards.
Counts of what it did go to --log as "fault <kind> <method> <path>" lines.
"""
import argparse, http.client, random, socket, struct, threading, time
from httpbase import QuietHandler, serve

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-connection"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="host:port of the registry")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reset", type=float, default=0.08)
    parser.add_argument("--error", type=float, default=0.12, help="chance of a 500/503/429")
    parser.add_argument("--delay", type=float, default=0.15)
    parser.add_argument("--max-faults", type=int, default=100000)
    parser.add_argument("--log", default="/dev/null")
    parser.add_argument("--throttle", type=float, default=0, help="read request bodies at this many MB/s (a slow link)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    lock = threading.Lock()
    state = {"faults": 0}
    upstream_host, upstream_port = args.upstream.rsplit(":", 1)

    def decide():
        with lock:
            if state["faults"] >= args.max_faults:
                return "none"
            x = rng.random()
            kind = "none"
            if x < args.reset:
                kind = "reset"
            elif x < args.reset + args.error:
                kind = rng.choice(["500", "503", "429"])
            elif x < args.reset + args.error + args.delay:
                kind = "delay"
            if kind != "none":
                state["faults"] += 1
            return kind

    def note(kind, method, path):
        with lock, open(args.log, "a") as log:
            log.write(f"fault {kind} {method} {path.split('?')[0]}\n")

    def read_body(stream, length):
        if not args.throttle:
            return stream.read(length) if length else b""
        parts, got = [], 0
        while got < length:
            part = stream.read(min(256 << 10, length - got))
            if not part:
                break
            parts.append(part)
            got += len(part)
            time.sleep(len(part) / (args.throttle * 1e6))
        return b"".join(parts)

    class Handler(QuietHandler):

        def handle_any(self):
            length = int(self.headers.get("Content-Length", "0") or 0)
            kind = decide()
            if kind == "reset":
                note(kind, self.command, self.path)
                self.rfile.read(length // 2)
                # SO_LINGER 0: close with a TCP reset, as a dropped connection looks.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            body = read_body(self.rfile, length)
            if len(body) < length:
                # The client went away mid-body: nothing of it reaches the registry,
                # as when a connection to a remote registry dies with bytes in flight.
                self.close_connection = True
                return
            if kind in ("500", "503", "429"):
                note(kind, self.command, self.path)
                headers = [("Retry-After", str(rng.choice([0, 1])))] if kind == "429" else []
                self.send_json(int(kind), {"errors": [{"code": "UNAVAILABLE", "message": "injected fault"}]}, headers)
                return
            if kind == "delay":
                note(kind, self.command, self.path)
                time.sleep(rng.uniform(0.05, 0.4))
            connection = http.client.HTTPConnection(upstream_host, int(upstream_port), timeout=120)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection.request(self.command, self.path, body=body if (body or self.command in ("PUT", "PATCH", "POST")) else None, headers=headers)
            response = connection.getresponse()
            data = response.read()
            self.send_response(response.status)
            for k, v in response.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            connection.close()

        do_GET = do_HEAD = do_PUT = do_PATCH = do_POST = do_DELETE = handle_any

    serve(Handler, args.port)


if __name__ == "__main__":
    main()
