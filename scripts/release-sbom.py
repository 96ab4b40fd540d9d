#!/usr/bin/env python3
"""SPDX 2.3 (JSON) for a gantry release tree: gantry itself, the Debian packages
its bundled C libraries were copied from (version, purl), and each bundled file
in lib/gantry/lib with its checksums, contained by its package. Printed on
standard output. Used by scripts/release; checked by pyspdxtools in release_test.

    release-sbom.py TREE VERSION REVISION TARBALL
"""
import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime, timezone


def digest(path, algorithm):
    state = algorithm()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            state.update(chunk)
    return state.hexdigest()


def sha256(path):
    return digest(path, hashlib.sha256)


def debian_package(library):
    """The installed package that ships a file named like `library`, and its version."""
    name = os.path.basename(library)
    found = subprocess.run(["dpkg", "-S", "*/" + name], capture_output=True, text=True).stdout
    package = next(line.split(":")[0] for line in found.splitlines() if not line.startswith("diversion"))
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=True).stdout
    return package, version


def main(tree, version, revision, tarball):
    created = datetime.fromtimestamp(int(os.environ.get("SOURCE_DATE_EPOCH", "0")), timezone.utc)
    tarball_sha = sha256(tarball)
    gantry = {
        "SPDXID": "SPDXRef-Package-gantry",
        "name": "gantry",
        "versionInfo": version,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "APPLICATION",
        "comment": f"built from revision {revision}; {os.path.basename(tarball)}",
        "checksums": [{"algorithm": "SHA256", "checksumValue": tarball_sha}],
    }
    packages = [gantry]
    files = []
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": gantry["SPDXID"]}]
    library_dir = os.path.join(tree, "lib", "gantry", "lib")
    elements = {}  # Debian package → its SPDX element
    for index, library in enumerate(sorted(os.listdir(library_dir))):
        path = os.path.join(library_dir, library)
        package, package_version = debian_package(path)
        if package not in elements:
            elements[package] = f"SPDXRef-Package-{len(elements)}"
            packages.append({
                "SPDXID": elements[package],
                "name": package,
                "versionInfo": package_version,
                "supplier": "Organization: Debian",
                "downloadLocation": "NOASSERTION",
                # The files analysed are the ones gantry ships, not all of the Debian package's.
                "filesAnalyzed": True,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": "NOASSERTION",
                "copyrightText": "NOASSERTION",
                "primaryPackagePurpose": "LIBRARY",
                "comment": f"its copyright file: share/doc/gantry/third-party/{package}/copyright",
                "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                  "referenceLocator": f"pkg:deb/debian/{package}@{package_version}?arch=amd64"}],
            })
            relationships.append({"spdxElementId": gantry["SPDXID"], "relationshipType": "CONTAINS", "relatedSpdxElement": elements[package]})
        element = f"SPDXRef-File-{index}"
        files.append({
            "SPDXID": element,
            "fileName": f"./lib/gantry/lib/{library}",
            "checksums": [{"algorithm": "SHA1", "checksumValue": digest(path, hashlib.sha1)},
                          {"algorithm": "SHA256", "checksumValue": sha256(path)}],
            "licenseConcluded": "NOASSERTION",
            "copyrightText": "NOASSERTION",
        })
        relationships.append({"spdxElementId": elements[package], "relationshipType": "CONTAINS", "relatedSpdxElement": element})
    # SPDX's package verification code: SHA-1 over the sorted SHA-1s of the package's files.
    for package in packages[1:]:
        contained = sorted(f["checksums"][0]["checksumValue"] for f in files
                           if {"spdxElementId": package["SPDXID"], "relationshipType": "CONTAINS", "relatedSpdxElement": f["SPDXID"]} in relationships)
        package["packageVerificationCode"] = {"packageVerificationCodeValue": hashlib.sha1("".join(contained).encode()).hexdigest()}
    document = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"gantry-{version}-linux-amd64",
        "documentNamespace": f"https://spdx.org/spdxdocs/gantry-{version}-{tarball_sha}",
        "creationInfo": {"created": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "creators": ["Tool: gantry-release-sbom"]},
        "packages": packages,
        "files": files,
        "relationships": relationships,
    }
    json.dump(document, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main(*sys.argv[1:5])
