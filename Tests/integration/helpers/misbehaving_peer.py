#!/usr/bin/env python3
"""Peers that misbehave, for gantry's reliability tests (loopback only, stops when killed):
  --mode silent   accepts connections and never answers (a hung registry or token service)
  --mode html     answers every request 200 with an HTML page (a login page where a token service should be)
  --mode error    answers every request 503 with a distribution-spec error body
"""
import argparse, socket, threading, time
from httpbase import QuietHandler, serve


def silent(port):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    held = []
    while True:
        connection, _ = listener.accept()
        held.append(connection)  # kept open, never read from or written to


class Handler(QuietHandler):
    mode = "html"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.mode == "html":
            body = b"<html><body>Please sign in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        else:
            self.send_json(503, {"errors": [{"code": "UNAVAILABLE", "message": "registry in maintenance until 10:00"}]})

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = answer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["silent", "html", "error"], required=True)
    args = parser.parse_args()
    if args.mode == "silent":
        silent(args.port)
    else:
        Handler.mode = args.mode
        serve(Handler, args.port)


if __name__ == "__main__":
    main()
