"""Development and demo tooling: a local monitoring stack on loopback ports.  Not for production.

What is here runs real components the way the tests and ``make demo`` need them: Prometheus,
Alertmanager and rbldnsd (Debian packages, found on ``PATH``), both infrawatch exporters as child
processes, an application simulator and fake PagerDuty/Slack/webhook/SMTP receivers (in-process
threads).  Every process is started on a free loopback port (unless told otherwise) and stopped by
its PID.

- ``procs``: free ports, ``Proc`` (a child process with its log), waiting for HTTP/TCP readiness.
- ``prometheus``, ``alertmanager``, ``rbldnsd``: one real server each.
- ``exporters``: the probe and reputation exporters as subprocesses.
- ``receivers``: fake notification receivers that record what Alertmanager really sent.
- ``appsim``: a demo application with ``/metrics`` and a JSON ``/health`` whose state can be changed.
- ``mixin``: rule files and ``alertmanager.yml`` rendered from ``jsonnet/`` with an overridden ``_config``.
- ``stack``: all of the above wired together (``DevStack``), used by ``scripts/demo.py`` and the e2e tests.

The mixin sources, examples and demo zones are read from the repository checkout (the package is
installed editable by ``make setup``).  Set ``INFRAWATCH_ROOT`` to use another checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

# devtools/infrawatch_dev/devstack/__init__.py -> the repository root, when installed editable.
ROOT = Path(os.environ.get("INFRAWATCH_ROOT") or Path(__file__).resolve().parents[3])


def require_repo(root: Path = ROOT) -> Path:
    """``root`` if it is an infrawatch checkout (jsonnet/ and examples/ present); else a clear error."""
    missing = [p for p in ("jsonnet/mixin.libsonnet", "examples/demo-dnsbl/datasets.txt") if not (root / p).is_file()]
    if missing:
        raise RuntimeError(
            f"infrawatch_dev.devstack needs the repository checkout, but {root} lacks {', '.join(missing)}: "
            "install the package editable from the checkout (make setup) or set INFRAWATCH_ROOT to it"
        )
    return root
