"""Shared plumbing of the test servers: quiet HTTP/1.1 handlers on loopback."""
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1, no access log on stderr, and a JSON reply helper."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":  # a body after HEAD would corrupt the next response
            self.wfile.write(data)


def serve(handler, port):
    """Serves on 127.0.0.1:port until killed; prints "ready" once listening."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()
