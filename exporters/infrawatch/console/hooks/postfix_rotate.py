"""Reference rotation hook for Postfix: move sending from an IP pool to its backup pool.

Convention (docs/console.md): each sending pool is a ``master.cf`` transport named ``pool_<pool>``,
an ``smtp`` client bound to the pool's address, and ``main.cf``'s ``default_transport`` names the
pool in use::

    pool_transactional unix - - n - - smtp -o smtp_bind_address=198.51.100.5
    pool_backup        unix - - n - - smtp -o smtp_bind_address=198.51.100.12

    default_transport = pool_transactional

The console runs this with the action as JSON on stdin (``{"ip", "from_pool", "to_pool", ...}``)::

    hooks:
      rotation:
        command: [python3, -m, infrawatch.console.hooks.postfix_rotate, --config-dir, /etc/postfix]

It checks that ``default_transport`` is the listed IP's pool and that the backup transport exists,
sets ``default_transport = pool_<to_pool>`` with ``postconf -e`` and runs ``postfix reload``: queued
and new messages leave from the backup address.  Exit 0 when rotated (or already on the backup
pool), 1 when nothing was changed; one line on stdout says what happened.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys

POOL_RE = re.compile(r"^[A-Za-z0-9_-]{1,60}$")


def transport(pool: str) -> str:
    return f"pool_{pool}"


def run(argv: list[str]) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout.strip()


def rotate(config_dir: str, action: dict, postconf: str = "postconf", postfix: str = "postfix") -> str:
    src, dst, ip = str(action.get("from_pool", "")), str(action.get("to_pool", "")), str(action.get("ip", ""))
    for name, pool in (("from_pool", src), ("to_pool", dst)):
        if not POOL_RE.match(pool):
            raise ValueError(f"{name} {pool!r} is not a pool name (letters, digits, _ and -)")
    current = run([postconf, "-c", config_dir, "-h", "default_transport"])
    if current == transport(dst):
        return f"already sending through {transport(dst)}; nothing changed"
    if current != transport(src):
        raise ValueError(f"default_transport is {current!r}, not {transport(src)!r}: {ip} is not in use here")
    services = run([postconf, "-c", config_dir, "-M"])
    if not re.search(rf"^{re.escape(transport(dst))}\s+unix\s", services, re.M):
        raise ValueError(f"master.cf has no transport {transport(dst)!r} for the backup pool")
    run([postconf, "-c", config_dir, "-e", f"default_transport={transport(dst)}"])
    run([postfix, "-c", config_dir, "reload"])
    return f"default_transport {transport(src)} -> {transport(dst)} ({ip} out of rotation); postfix reloaded"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="postfix_rotate", description=__doc__.split("\n\n")[0])
    p.add_argument("--config-dir", default="/etc/postfix", help="Postfix configuration directory")
    p.add_argument("--postconf", default="/usr/sbin/postconf")
    p.add_argument("--postfix", default="/usr/sbin/postfix")
    args = p.parse_args(argv)
    try:
        action = json.load(sys.stdin)
        print(rotate(args.config_dir, action, args.postconf, args.postfix))
    except (ValueError, subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        print(f"postfix rotation failed: {exc} {detail}".strip())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
