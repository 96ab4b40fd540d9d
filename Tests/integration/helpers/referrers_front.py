#!/usr/bin/env python3
"""A registry front with the OCI distribution spec's referrers API, for the tests
of gantry's attachments on registries that have it (ACR does; Debian's
docker-registry 2.8 does not). Every request goes through to docker-registry
unchanged, except:
  - PUT of a manifest with a `subject`: forwarded, then remembered as a referrer of
    that subject, and answered with the spec's `OCI-Subject` header;
  - GET /v2/<name>/referrers/<digest>[?artifactType=T]: an image index of the
    remembered referrers (filtered by T, with `OCI-Filters-Applied`), 200 even when
    empty, as the spec says.
Each request is logged to --log as "METHOD PATH STATUS".
"""
import argparse, hashlib, http.client, json, re, threading
from httpbase import QuietHandler, serve

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}
REFERRERS = re.compile(r"^/v2/(.+)/referrers/(sha256:[0-9a-f]{64})$")
MANIFEST = re.compile(r"^/v2/(.+)/manifests/([^/]+)$")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--log", default="/dev/null")
    args = parser.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    lock = threading.Lock()
    referrers = {}  # (repository, subject digest) -> [descriptor]

    class Handler(QuietHandler):
        def log(self, status):
            with lock, open(args.log, "a") as log:
                log.write(f"{self.command} {self.path} {status}\n")

        def handle_any(self):
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(length) if length else b""
            found = REFERRERS.match(path)
            if found and self.command == "GET":
                wanted = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("artifactType")
                with lock:
                    listed = list(referrers.get((found.group(1), found.group(2)), []))
                if wanted:
                    listed = [d for d in listed if d.get("artifactType") == wanted.replace("%2B", "+").replace("%2F", "/")]
                data = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                   "manifests": listed}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.oci.image.index.v1+json")
                if wanted:
                    self.send_header("OCI-Filters-Applied", "artifactType")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.log(200)
                return
            connection = http.client.HTTPConnection(host, int(port), timeout=120)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection.request(self.command, self.path, body=body if (body or self.command in ("PUT", "PATCH", "POST")) else None,
                               headers=headers)
            response = connection.getresponse()
            data = response.read()
            extra = []
            manifest = MANIFEST.match(path)
            if manifest and self.command == "PUT" and response.status == 201:
                document = json.loads(body)
                if "subject" in document:
                    descriptor = {"mediaType": document.get("mediaType", self.headers.get("Content-Type")),
                                  "digest": "sha256:" + hashlib.sha256(body).hexdigest(), "size": len(body),
                                  "artifactType": document.get("artifactType") or document["config"]["mediaType"]}
                    if document.get("annotations"):
                        descriptor["annotations"] = document["annotations"]
                    key = (manifest.group(1), document["subject"]["digest"])
                    with lock:
                        if descriptor["digest"] not in [d["digest"] for d in referrers.setdefault(key, [])]:
                            referrers[key].append(descriptor)
                    extra.append(("OCI-Subject", document["subject"]["digest"]))
            self.send_response(response.status)
            for k, v in response.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            for k, v in extra:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            connection.close()
            self.log(response.status)

        do_GET = do_HEAD = do_PUT = do_PATCH = do_POST = do_DELETE = handle_any

    serve(Handler, args.port)


if __name__ == "__main__":
    main()
