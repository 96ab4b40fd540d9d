"""A loopback HTTP server for HTTPTransport's unit tests: GET/HEAD serve files of a
directory, PUT/PATCH/POST answer 201 with the body's length and SHA-256, and
/status/N answers N with a small JSON body. Writes its port to the file named by
the second argument; exits when its parent (the test process) is gone."""
import hashlib, http.server, json, os, sys

class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/status/"):
            body = json.dumps({"errors": [{"code": "TEST", "message": "status"}]}).encode()
            self.send_response(int(self.path.split("/")[2]))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Test", "one")
            self.send_header("X-Test", "two")
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def upload(self):
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        body = json.dumps({"length": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                           "type": self.headers.get("Content-Type"), "range": self.headers.get("Content-Range")}).encode()
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Location", "/next")
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_PATCH = do_POST = upload

import shutil, threading, time

def watch_parent(parent):
    while os.getppid() == parent:
        time.sleep(0.5)
    shutil.rmtree(sys.argv[1], ignore_errors=True)
    if os.path.exists(sys.argv[2]):
        os.remove(sys.argv[2])
    os._exit(0)

os.chdir(sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
