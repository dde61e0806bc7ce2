#!/usr/bin/env python3
"""Fetches the Swagger UI and ReDoc assets that /docs and /redoc serve, from the npm registry,
at build time (never at run time), verifying each tarball against its pinned integrity hash.

Usage: fetch_doc_assets.py DEST_DIR   (does nothing when the pinned files are already there)
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
# (package, version, sha512 integrity from the registry, {file in tarball: name in DEST})
PACKAGES = [
    (
        "swagger-ui-dist",
        "5.35.0",
        "U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        {
            "package/swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "package/swagger-ui.css": "swagger-ui.css",
            "package/LICENSE": "swagger-ui.LICENSE",
        },
    ),
    (
        "redoc",
        "2.5.4",
        "M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==",
        {
            "package/bundles/redoc.standalone.js": "redoc.standalone.js",
            "package/LICENSE": "redoc.LICENSE",
        },
    ),
]


def fetch(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name, version, integrity, files in PACKAGES:
        stamp = dest / f".{name}-{version}"
        if stamp.exists() and all((dest / out).exists() for out in files.values()):
            continue
        url = f"{REGISTRY}/{name}/-/{name}-{version}.tgz"
        with urllib.request.urlopen(url, timeout=60) as response:
            blob = response.read()
        digest = base64.b64encode(hashlib.sha512(blob).digest()).decode()
        if digest != integrity:
            sys.exit(f"{name}@{version}: integrity mismatch, refusing to use it")
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            for member, out in files.items():
                extracted = tar.extractfile(member)
                if extracted is None:
                    sys.exit(f"{name}@{version}: {member} missing from the tarball")
                (dest / out).write_bytes(extracted.read())
        stamp.touch()
        print(f"fetched {name}@{version} into {dest}", file=sys.stderr)


if __name__ == "__main__":
    fetch(Path(sys.argv[1]))
