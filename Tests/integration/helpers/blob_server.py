#!/usr/bin/env python3
"""A blob-storage-like HTTP endpoint for gantry's demo and tests.

Serves files under --root as http://127.0.0.1:PORT/<account>/<container>/<blob>,
the path style of Azurite, with HEAD, GET, Range (206 + Content-Range), ETag,
Last-Modified and Accept-Ranges as Azure Blob Storage answers them.

With --key, every request must carry Azure Shared Key authentication; the
expected Authorization header is computed by the Azure SDK's own signer
(azure-storage-blob's SharedKeyCredentialPolicy) for the request as received, and
a mismatch is answered 403 AuthenticationFailed, as Azure does.

List Blobs (GET /<account>/<container>?restype=container&comp=list&prefix=P&marker=M)
answers pages of --page-size names, sorted, with NextMarker, as Azure does. If-Match
is honoured (412 ConditionNotMet). With --sas SIG, every request must carry sig=SIG,
and its sp= permissions must include r to read and l to list (403
AuthorizationPermissionMismatch otherwise, as Azure answers).

--drop-after N: the first --drops GET responses are cut (connection reset) after
N body bytes, to exercise resumed downloads. Requests are logged to --log as
"METHOD PATH RANGE STATUS" (never a header value).
"""
import argparse, base64, email.utils, hashlib, os, socket, struct, threading
from xml.sax.saxutils import escape
from httpbase import QuietHandler, serve
from urllib.parse import parse_qs, unquote, urlparse


def expected_authorization(method, url, headers, account, key):
    from azure.core.pipeline import PipelineContext, PipelineRequest
    from azure.core.rest import HttpRequest
    from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy

    request = HttpRequest(method, url, headers={k: v for k, v in headers.items() if k.lower() != "authorization"})
    pipeline_request = PipelineRequest(request, PipelineContext(None))
    SharedKeyCredentialPolicy(account, key).on_request(pipeline_request)
    return request.headers["Authorization"]


def etag_of(path):
    """Changes whenever the file is written, as Azure's does."""
    stat = os.stat(path)
    return '"0x' + hashlib.sha256(f"{stat.st_mtime_ns}-{stat.st_size}".encode()).hexdigest()[:16].upper() + '"'


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--account", default="gantrydemo")
    parser.add_argument("--key", default="", help="base64 account key; enables Shared Key checks")
    parser.add_argument("--drop-after", type=int, default=0)
    parser.add_argument("--drops", type=int, default=0, help="how many responses to cut; -1: all")
    parser.add_argument("--no-ranges", action="store_true", help="answer every GET whole, like a plain file server")
    parser.add_argument("--advertise-ranges", action="store_true",
                        help="with --no-ranges: still send Accept-Ranges, as some servers do while ignoring Range")
    parser.add_argument("--page-size", type=int, default=5000, help="names per List Blobs page")
    parser.add_argument("--sas", default="", help="require this sig= on every request, and sp= permissions")
    parser.add_argument("--log", default=os.devnull)
    args = parser.parse_args()
    lock = threading.Lock()
    state = {"drops": args.drops}

    class Handler(QuietHandler):
        def note(self, status):
            with lock, open(args.log, "a") as log:
                log.write(f"{self.command} {urlparse(self.path).path} {self.headers.get('Range') or self.headers.get('x-ms-range') or '-'} {status}\n")

        def error(self, status, code):
            body = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code></Error>'.encode()
            self.note(status)
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def handle_blob(self):
            url = urlparse(self.path)
            query = parse_qs(url.query)
            parts = unquote(url.path).lstrip("/").split("/", 2)
            if args.key:
                host = self.headers.get("Host", f"127.0.0.1:{args.port}")
                expected = expected_authorization(self.command, f"http://{host}{self.path}", dict(self.headers.items()),
                                                  args.account, args.key)
                if self.headers.get("Authorization") != expected:
                    return self.error(403, "AuthenticationFailed")
            listing = query.get("comp") == ["list"] and query.get("restype") == ["container"]
            if args.sas:
                if query.get("sig") != [args.sas]:
                    return self.error(403, "AuthenticationFailed")
                if ("l" if listing else "r") not in query.get("sp", [""])[0]:
                    return self.error(403, "AuthorizationPermissionMismatch")
            if listing and len(parts) == 2 and parts[0] == args.account:
                return self.list_blobs(parts[1], query)
            if len(parts) != 3 or parts[0] != args.account:
                return self.error(404, "ResourceNotFound")
            path = os.path.join(args.root, parts[1], parts[2])
            if not os.path.isfile(path):
                return self.error(404, "BlobNotFound")
            size = os.path.getsize(path)
            etag = etag_of(path)
            # Azure takes the ETag quoted (as headers carry it) or bare (as listings do).
            if_match = self.headers.get("If-Match")
            if if_match not in (None, "*") and if_match.strip('"') != etag.strip('"'):
                return self.error(412, "ConditionNotMet")
            stat = os.stat(path)
            start, end, status = 0, size - 1, 200
            range_header = self.headers.get("Range") or self.headers.get("x-ms-range")
            if range_header and range_header.startswith("bytes=") and not args.no_ranges:
                first, _, last = range_header[6:].partition("-")
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
                if start >= size:
                    return self.error(416, "InvalidRange")
                status = 206
            self.note(status)
            self.send_response(status)
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
            if not args.no_ranges or args.advertise_ranges:
                self.send_header("Accept-Ranges", "bytes")
            self.send_header("x-ms-blob-type", "BlockBlob")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if self.command == "HEAD":
                return
            drop_at = None
            with lock:
                if state["drops"] != 0 and end - start + 1 > args.drop_after > 0:
                    state["drops"] -= 1
                    drop_at = args.drop_after
            with open(path, "rb") as f:
                f.seek(start)
                remaining, sent = end - start + 1, 0
                while remaining > 0:
                    chunk = f.read(min(65536, remaining))
                    if drop_at is not None and sent + len(chunk) > drop_at:
                        self.wfile.write(chunk[: drop_at - sent])
                        self.wfile.flush()
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        self.connection.close()
                        self.close_connection = True
                        return
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    remaining -= len(chunk)

        def list_blobs(self, container, query):
            directory = os.path.join(args.root, container)
            if not os.path.isdir(directory):
                return self.error(404, "ContainerNotFound")
            prefix = query.get("prefix", [""])[0]
            names = sorted(os.path.relpath(os.path.join(top, f), directory)
                           for top, _, files in os.walk(directory) for f in files)
            names = [n for n in names if n.startswith(prefix)]
            marker = query.get("marker", [""])[0]
            start = base64.b64decode(marker).decode() if marker else ""
            names = [n for n in names if n >= start]
            # The service's page is the smaller of its own limit and the client's maxresults.
            size = min(args.page_size, int(query.get("maxresults", [args.page_size])[0]))
            page, rest = names[:size], names[size:]

            def properties(name):
                path = os.path.join(directory, name)
                modified = email.utils.formatdate(os.stat(path).st_mtime, usegmt=True)
                return (f"<Last-Modified>{modified}</Last-Modified><Etag>{etag_of(path).strip(chr(34))}</Etag>"
                        f"<Content-Length>{os.path.getsize(path)}</Content-Length>"
                        "<Content-Type>application/octet-stream</Content-Type><BlobType>BlockBlob</BlobType>")
            blobs = "".join(f"<Blob><Name>{escape(n)}</Name><Properties>{properties(n)}</Properties></Blob>" for n in page)
            next_marker = base64.b64encode(rest[0].encode()).decode() if rest else ""
            endpoint = f"http://{self.headers.get('Host', '127.0.0.1')}/{args.account}/"
            body = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="{escape(endpoint)}" '
                    f'ContainerName="{escape(container)}"><Prefix>{escape(prefix)}</Prefix><Marker>{escape(marker)}</Marker>'
                    f"<MaxResults>{size}</MaxResults><Blobs>{blobs}</Blobs><NextMarker>{next_marker}</NextMarker>"
                    "</EnumerationResults>").encode()
            self.note(200)
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_HEAD = handle_blob

    serve(Handler, args.port)


if __name__ == "__main__":
    main()
