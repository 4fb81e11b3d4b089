"""Command line: `python -m maintenance_operator run|crds|report`."""

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


def _report(args: argparse.Namespace) -> int:
    import yaml

    from maintenance_operator.api import stored, v1alpha1
    from maintenance_operator.render import html, markdown

    try:
        doc = yaml.safe_load(Path(args.file).read_text())
        items = doc.get("items", [doc]) if isinstance(doc, dict) else []
        reports = [d for d in items if isinstance(d, dict) and d.get("kind") == "MaintenanceReport"]
        if not reports:
            raise ValueError("no MaintenanceReport in the file (use `kubectl get mrep NAME -o yaml`)")
        reads = [
            (r.get("metadata", {}).get("name", "report"), stored.read(v1alpha1.MaintenanceReportStatus, r))
            for r in reports
        ]
        unreadable = [f"{name}: {read.reason}" for name, read in reads if not read.intact]
        if unreadable:
            raise ValueError("unreadable report status: " + "; ".join(unreadable))
        pages = [(name, read.status) for name, read in reads]
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    if args.html:
        name, status = pages[0]
        Path(args.html).write_text(html.render(name, status))
        print(f"wrote {args.html}")
        return 0
    print("\n\n".join(markdown.render(name, status) for name, status in pages))
    return 0


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

    report = sub.add_parser(
        "report", help="Print a MaintenanceReport (kubectl get mrep -o yaml) as Markdown."
    )
    report.add_argument("file", help="YAML or JSON of one MaintenanceReport or a List of them.")
    report.add_argument("--html", metavar="OUT", help="Write the first report as a self-contained HTML page.")
    report.set_defaults(func=_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
