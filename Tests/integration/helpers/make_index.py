#!/usr/bin/env python3
"""make_index.py LAYOUT NAME TAG...: adds to the OCI layout LAYOUT an image index
named NAME over the images tagged TAG... (each one platform, read from its config).
Tests use it to make a multi-platform base the way a registry's index looks,
without gantry, so gantry's reading of indexes is checked against a file it did
not write."""
import hashlib
import json
import os
import sys

layout, name, tags = sys.argv[1], sys.argv[2], sys.argv[3:]


def blob(digest):
    return os.path.join(layout, "blobs", *digest.split(":"))


with open(os.path.join(layout, "index.json")) as f:
    top = json.load(f)
by_tag = {d.get("annotations", {}).get("org.opencontainers.image.ref.name"): d for d in top["manifests"]}
manifests = []
for tag in tags:
    descriptor = dict(by_tag[tag])
    descriptor.pop("annotations", None)
    with open(blob(descriptor["digest"])) as f:
        manifest = json.load(f)
    with open(blob(manifest["config"]["digest"])) as f:
        config = json.load(f)
    descriptor["platform"] = {"architecture": config["architecture"], "os": config["os"]}
    if config.get("variant"):
        descriptor["platform"]["variant"] = config["variant"]
    manifests.append(descriptor)
index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": manifests}, separators=(",", ":")).encode()
digest = "sha256:" + hashlib.sha256(index).hexdigest()
with open(blob(digest), "wb") as f:
    f.write(index)
top["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest,
                         "size": len(index), "annotations": {"org.opencontainers.image.ref.name": name}})
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump(top, f)
print(digest)
