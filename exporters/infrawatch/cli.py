"""``infrawatch`` umbrella command: ``build``, ``reputation check|export``, exporters."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    usage = (
        "usage: infrawatch {build,probe-exporter,reputation-exporter,reputation,console} ...\n"
        "  build                 generate rules/, dashboards/, alertmanager/ from jsonnet/\n"
        "  probe-exporter        run the service-probe exporter\n"
        "  reputation-exporter   run the blacklist-reputation exporter\n"
        "  reputation check|export   blacklist lookups and history for a person at a terminal\n"
        "  console               the operator console (Infrastructure Monitoring page)\n"
    )
    if argv and argv[0] in ("-h", "--help"):
        print(usage)
        return 0
    if not argv:  # a command is required (as argparse's required subcommands: usage, exit 2)
        print(usage, file=sys.stderr)
        print("infrawatch: a command is required", file=sys.stderr)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "build":
        # The build tools live in the development package (devtools/), not in the product.
        try:
            from infrawatch_dev.build import main as build_main
        except ImportError:
            print(
                "infrawatch build: the build tools are in the development package, which is not installed: "
                "run `make setup` in the repository checkout (or `pip install -e ./devtools`)",
                file=sys.stderr,
            )
            return 2
        return build_main(rest)
    if cmd == "probe-exporter":
        from .probe.main import main as probe_main

        return probe_main(rest)
    if cmd == "reputation-exporter":
        from .reputation.main import main as rep_main

        return rep_main(rest)
    if cmd == "reputation":
        from .reputation.cli import main as rep_cli

        return rep_cli(rest)
    if cmd == "console":
        from .console.main import main as console_main

        return console_main(rest)
    print(usage, file=sys.stderr)
    print(f"infrawatch: unknown command {cmd!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
