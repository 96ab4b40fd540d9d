#!/usr/bin/env python3
"""A registry token server for gantry's tests (distribution docs/spec/auth/token.md).

Issues ES256 JWTs that Debian's docker-registry (distribution 2.8) accepts: the
header's `kid` is the libtrust fingerprint of the signing key, whose self-signed
certificate the registry trusts through `rootcertbundle`.

  GET  /token?service=S&scope=...      Basic auth (--user) or anonymous if no --user
  POST /token                          OAuth2 form: grant_type=password|refresh_token
  POST /oauth2/exchange                ACR-style: Entra ID access token -> refresh token

Tokens live --ttl seconds; --advertise-expires-in can claim a longer life, so that
a client caching by expires_in meets a 401 mid-push and must re-authenticate.
Every issued token is counted in --log as one line "issued <grant> <scope>" (no secrets).
"""
import argparse, base64, datetime, hashlib, json, os, sys, threading, time, uuid
from httpbase import QuietHandler, serve
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_kid(public_key) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(digest[i:i + 4] for i in range(0, 48, 4))


class Issuer:
    def __init__(self, args):
        self.args = args
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.kid = libtrust_kid(self.key.public_key())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gantry-test-token-issuer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                .sign(self.key, hashes.SHA256()))
        with open(args.cert, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        self.lock = threading.Lock()

    def token(self, subject, scopes, grant):
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) == 3:
                access.append({"type": parts[0], "name": parts[1], "actions": parts[2].split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "kid": self.kid}
        claims = {"iss": self.args.issuer, "sub": subject, "aud": self.args.service, "exp": now + self.args.ttl,
                  "nbf": now - 5, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        with self.lock, open(self.args.log, "a") as log:
            log.write(f"issued {grant} {' '.join(scopes)}\n")
        return signing_input + "." + b64url(signature)


def make_handler(issuer, args):
    users = dict(u.split(":", 1) for u in args.user)

    class Handler(QuietHandler):
        reply = QuietHandler.send_json

        def grant(self, subject, scopes, kind):
            token = issuer.token(subject, scopes, kind)
            self.reply(200, {"token": token, "access_token": token,
                             "expires_in": args.advertise_expires_in or args.ttl,
                             "issued_at": datetime.datetime.now(datetime.timezone.utc).isoformat()})

        def do_GET(self):
            url = urlparse(self.path)
            query = parse_qs(url.query)
            if url.path not in ("/token", "/oauth2/token"):
                return self.reply(404, {"error": "not found"})
            subject = "anonymous"
            if users:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return self.reply(401, {"error": "credentials required"})
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                if users.get(user) != password:
                    return self.reply(401, {"error": "invalid credentials"})
                subject = user
            self.grant(subject, query.get("scope", []), "basic" if users else "anonymous")

        def do_POST(self):
            url = urlparse(self.path)
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
            field = lambda name: form.get(name, [""])[0]
            if url.path == "/oauth2/exchange":
                if args.aad_token and field("grant_type") == "access_token" and field("access_token") == args.aad_token:
                    return self.reply(200, {"refresh_token": args.refresh_token})
                return self.reply(401, {"error": "invalid access token"})
            if url.path not in ("/token", "/oauth2/token"):
                return self.reply(404, {"error": "not found"})
            grant = field("grant_type")
            if grant == "refresh_token" and args.refresh_token and field("refresh_token") == args.refresh_token:
                return self.grant("refresh-user", form.get("scope", []), "refresh_token")
            if grant == "password" and users.get(field("username")) == field("password"):
                return self.grant(field("username"), form.get("scope", []), "password")
            self.reply(401, {"error": "invalid grant"})

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True, help="where to write the signing certificate (PEM)")
    parser.add_argument("--issuer", default="gantry-test-issuer")
    parser.add_argument("--service", default="gantry-test-registry")
    parser.add_argument("--user", action="append", default=[], help="user:password; repeatable")
    parser.add_argument("--refresh-token", default="")
    parser.add_argument("--aad-token", default="")
    parser.add_argument("--ttl", type=int, default=60)
    parser.add_argument("--advertise-expires-in", type=int, default=0)
    parser.add_argument("--log", default=os.devnull)
    args = parser.parse_args()
    issuer = Issuer(args)
    serve(make_handler(issuer, args), args.port)


if __name__ == "__main__":
    main()
