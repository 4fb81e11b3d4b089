"""Command line: `python -m maintenance_operator run|crds|version`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from maintenance_operator.api import crd


def _crds(args: argparse.Namespace) -> int:
    files = crd.rendered_files()
    targets = [Path(args.out), *[Path(p) for p in args.copy_to]]
    if args.check:
        stale = [str(d / name) for d in targets for name, text in files.items() if _read(d / name) != text]
        if stale:
            print(
                "CRDs drifted from the pydantic models; run `make crds`:", *stale, sep="\n  ", file=sys.stderr
            )
            return 1
        print(f"CRDs up to date ({len(files)} kinds, {len(targets)} directories)")
        return 0
    for directory in targets:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (directory / name).write_text(text)
    print(f"wrote {len(files)} CRDs to {', '.join(map(str, targets))}")
    return 0


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def _run(args: argparse.Namespace) -> int:
    from maintenance_operator import operator_main

    return operator_main.run(namespaces=args.namespace, all_namespaces=args.all_namespaces)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maintenance-operator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="Run the operator (kopf) against the current kubeconfig or in-cluster.")
    run.add_argument(
        "-n", "--namespace", action="append", default=[], help="Namespace to watch (repeatable)."
    )
    run.add_argument("-A", "--all-namespaces", action="store_true", help="Watch all namespaces.")
    run.set_defaults(func=_run)

    crds = sub.add_parser("crds", help="Render crds/ from the pydantic models, or --check for drift.")
    crds.add_argument("--out", default="crds")
    crds.add_argument("--copy-to", action="append", default=["helm/maintenance-operator/crds"])
    crds.add_argument("--check", action="store_true", help="Fail if the files differ from the models.")
    crds.set_defaults(func=_crds)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
