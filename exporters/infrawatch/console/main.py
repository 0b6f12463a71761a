"""``infrawatch console`` / ``infrawatch-console``: flags as the exporters' (``--config.file``,
``--web.listen-address``, ``--web.config.file``, ``--log.*``, ``--config.check``)."""

from __future__ import annotations

import sys

from ..core.server import common_flags, run
from .app import Console

DEFAULT_LISTEN = ":9518"


def main(argv: list[str] | None = None) -> int:
    parser = common_flags(
        "infrawatch console",
        "The Infrastructure Monitoring page (service health, IP reputation, alerts feed)"
        " on Prometheus and Alertmanager.",
        "console.yml",
        DEFAULT_LISTEN,
    )
    return run(Console, argv, parser)


if __name__ == "__main__":
    sys.exit(main())
