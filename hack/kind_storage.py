"""kind's default storage manifest (local-path-provisioner), taken from the pinned sigs.k8s.io/kind module.

kind's node-image builder writes this manifest to /kind/manifests/default-storage.yaml, and `kind create
cluster` applies it. Its text lives only in Go source (pkg/build/nodeimage/const_storage.go) as one raw
string joined with the image constants, so this reads that source, joins it the same way and puts the
images built here in place of kind's:

    python3 hack/kind_storage.py CONST_STORAGE_GO --image OLD=NEW ... > default-storage.yaml
    python3 hack/kind_storage.py CONST_STORAGE_GO --images     # kind's image names, one a line

Standard library only: hack/kind/node-image.sh runs it with the host's python3.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping

MANIFEST_CONST = "defaultStorageManifest"
_STRING_CONST = re.compile(r'^const\s+(\w+)\s*=\s*"([^"\\]*)"\s*$', re.MULTILINE)
_RAW_PART = re.compile(r"`([^`]*)`")
_NAME_PART = re.compile(r"\s*\+\s*(\w+)\s*\+\s*")


class ManifestError(ValueError):
    """The Go source does not hold the manifest in the shape this reads, or an image to replace is absent."""


def string_constants(source: str) -> dict[str, str]:
    """The top-level ``const name = "value"`` string constants of a Go file."""
    return dict(_STRING_CONST.findall(source))


def manifest(source: str, *, images: Mapping[str, str] | None = None) -> str:
    """The manifest constant of ``source`` with its constants joined in; ``images`` maps kind's image names
    to the ones to use instead, and each of them must occur."""
    constants = string_constants(source)
    start = re.search(rf"^const\s+{MANIFEST_CONST}\s*=\s*`", source, re.MULTILINE)
    if start is None:
        raise ManifestError(f"no `const {MANIFEST_CONST} = ` raw string in the source")
    text, pos = "", start.end() - 1
    while True:
        raw = _RAW_PART.match(source, pos)
        if raw is None:
            raise ManifestError(f"unterminated raw string in {MANIFEST_CONST}")
        text += raw.group(1)
        pos = raw.end()
        joined = _NAME_PART.match(source, pos)
        if joined is None or source[joined.end() : joined.end() + 1] != "`":
            break
        name = joined.group(1)
        if name not in constants:
            raise ManifestError(f"{MANIFEST_CONST} joins {name}, which is not a string constant")
        text += constants[name]
        pos = joined.end()
    for old, new in (images or {}).items():
        if not re.search(rf"(?<![\w./:-]){re.escape(old)}(?![\w./:-])", text):
            raise ManifestError(f"image {old} does not occur in {MANIFEST_CONST}")
        text = re.sub(rf"(?<![\w./:-]){re.escape(old)}(?![\w./:-])", new, text)
    return text.lstrip("\n")


def images(source: str) -> list[str]:
    """The images kind preloads for its default storage: the string constants whose names end in Image."""
    return [value for name, value in string_constants(source).items() if name.endswith("Image")]


def _pair(text: str) -> tuple[str, str]:
    old, sep, new = text.partition("=")
    if not (sep and old and new):
        raise argparse.ArgumentTypeError(f"expected OLD=NEW, got {text!r}")
    return old, new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="pkg/build/nodeimage/const_storage.go of the sigs.k8s.io/kind module")
    parser.add_argument("--image", action="append", type=_pair, default=[], metavar="OLD=NEW")
    parser.add_argument("--images", action="store_true", help="print kind's image names and exit")
    args = parser.parse_args(argv)
    with open(args.source, encoding="utf-8") as f:
        source = f.read()
    try:
        out = "\n".join(images(source)) + "\n" if args.images else manifest(source, images=dict(args.image))
    except ManifestError as e:
        print(f"{args.source}: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
