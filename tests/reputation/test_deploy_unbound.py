"""The docker-compose stack runs Debian's unbound next to the reputation exporter (issue 14): the
shipped unbound.conf passes the real ``unbound-checkconf``, and the exporter asks it."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from infrawatch.reputation.config import load_config_text
from infrawatch.reputation.engine import Engine
from support import dnsbl_zones as z
from support.procs import Proc, free_udp_port, require_binary, wait_port
from support.rbldnsd import Rbldnsd

ROOT = Path(__file__).resolve().parents[2]
ROOT_DS = ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"


def test_shipped_unbound_conf_passes_unbound_checkconf(tmp_path: Path) -> None:
    conf = (ROOT / "deploy/compose/unbound/unbound.conf").read_text()
    # The image installs dns-root-data for the trust anchor; here the same root DS goes to a temp file.
    anchor = tmp_path / "root.key"
    anchor.write_text(ROOT_DS)
    assert '"/usr/share/dns/root.key"' in conf
    (tmp_path / "unbound.conf").write_text(conf.replace("/usr/share/dns/root.key", str(anchor)))
    r = subprocess.run(
        [require_binary("unbound-checkconf"), str(tmp_path / "unbound.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_compose_exporter_asks_the_stacks_unbound() -> None:
    stack = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    ub = stack["services"]["unbound"]
    assert ub["network_mode"] == "service:reputation-exporter"
    assert (ROOT / ub["build"] / "Dockerfile").read_text().count("unbound") >= 2
    cfg = yaml.safe_load((ROOT / "deploy/compose/reputation.yml").read_text())
    assert cfg["resolver"]["nameservers"] == ["127.0.0.1:53"]


# ---- Kubernetes: the unbound container of the reputation pod (deploy/kubernetes) ----------------

# Settings the pod's unbound.conf may set differently from the compose one, and why (also in the
# header of jsonnet/deploy/config/unbound.conf).
POD_ONLY = {
    "interface",  # every address: the kubelet's TCP health check reaches it (access-control answers only the pod)
    "access-control",
    "username",  # already the pod's user 65534: no switch
    "pidfile",  # read-only root filesystem
    "port",  # non-root: above 1024
    "directory",  # the ConfigMap's mount
}


def _settings(conf: str) -> dict[tuple[str, str], list[str]]:
    """``(clause, key) -> [values]`` of an unbound.conf (clauses may repeat; comments dropped)."""
    out: dict[tuple[str, str], list[str]] = {}
    clause = ""
    for raw in conf.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        key, _, value = line.strip().partition(":")
        if not raw.startswith((" ", "\t")):
            clause = key
            continue
        out.setdefault((clause, key), []).append(value.strip())
    return out


def _pod_unbound(overrides: str = "{}") -> tuple[str, list[str]]:
    """The generated unbound.conf and the unbound container's command."""
    from infrawatch_dev.build import evaluate_snippet

    files = evaluate_snippet(
        ROOT,
        f"local m = (import 'mixin.libsonnet') + {{ _config+:: {{ kubernetes+: {overrides} }} }};"
        " m.kubernetesManifests['reputation-exporter.yaml']",
    )
    (cm,) = [o for o in files if o["kind"] == "ConfigMap" and "unbound.conf" in o["data"]]
    (dep,) = [o for o in files if o["kind"] == "Deployment"]
    (ub,) = [c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "unbound"]
    return cm["data"]["unbound.conf"], ub["command"]


def test_pod_and_compose_unbound_agree() -> None:
    """Declared twice (compose runs it as root on port 53, the pod as 65534 on 5353): every other
    setting is the same, so a change to one that forgets the other fails here."""
    compose = _settings((ROOT / "deploy/compose/unbound/unbound.conf").read_text())
    pod = _settings(_pod_unbound()[0])
    differ = {k for k in compose.keys() | pod.keys() if compose.get(k) != pod.get(k)}
    assert {key for _, key in differ} <= POD_ONLY, sorted(differ)
    assert pod[("server", "port")] == ["5353"] and pod[("server", "username")] == ['""']


async def test_pod_unbound_conf_runs_in_a_real_unbound(dnsbl: Rbldnsd) -> None:
    """The generated unbound.conf (with a stub zone to rbldnsd, as an operator's list mirror) passes
    ``unbound-checkconf``, and Debian's unbound started with it as in the pod -- the container's own
    command, as user 65534, its files a root-owned copy of the ConfigMap mount it cannot write --
    answers the exporter: a listing with its TXT reason, an IPv6 listing, a clean address.

    Changed for the test only: the port (a free one), the paths under /etc (into a temp directory),
    the trust anchor (Debian's dns-root-data file, not installed here: the same root DS in a temp
    file), and added: a root stub zone pointing at a dead loopback port, so nothing can leave the
    machine, and the two settings that let unbound ask a "test." zone on localhost.  Not reproduced:
    the read-only root filesystem itself (unbound writes no pidfile and nothing in its directory,
    which this user could not either)."""
    host, port = dnsbl.address.rsplit(":", 1)
    stub = f"{{ unbound+: {{ stubZones: [{{ name: 'zen.test', addrs: ['{host}@{port}'] }}] }} }}"
    conf, command = _pod_unbound(stub)
    assert 'stub-zone:\n  name: "zen.test."' in conf and 'domain-insecure: "zen.test."' in conf
    # pytest's temp directories are root-only (0700): this one is readable by the pod's user
    root = Path(tempfile.mkdtemp(prefix="infrawatch-pod-unbound-"))
    proc: Proc | None = None
    try:
        root.chmod(0o755)
        listen = free_udp_port()
        anchor = root / "root.key"
        anchor.write_text(ROOT_DS)
        conf = conf.replace("port: 5353", f"port: {listen}").replace("/usr/share/dns/root.key", str(anchor))
        conf = re.sub(r"(?<![\w.])/etc/", f"{root}/etc/", conf)
        conf += (
            # the test's zones are under "test." (an RFC 6761 name unbound answers NXDOMAIN itself)
            # and its rbldnsd on 127.0.0.1 (unbound does not ask localhost unless told)
            'server:\n  local-zone: "test." nodefault\n  do-not-query-localhost: no\n'
            f'stub-zone:\n  name: "."\n  stub-addr: 127.0.0.1@{free_udp_port()}\n'
        )
        conf_path = root / command[command.index("-c") + 1].lstrip("/")
        conf_path.parent.mkdir(parents=True)
        conf_path.write_text(conf)
        for d in conf_path.relative_to(root).parents:
            (root / d).chmod(0o755)
        for f in (anchor, conf_path):
            f.chmod(0o644)
        checkconf = subprocess.run(
            [require_binary("unbound-checkconf"), str(conf_path)], capture_output=True, text=True, timeout=30
        )
        assert checkconf.returncode == 0, checkconf.stdout + checkconf.stderr

        argv = [require_binary(command[0]), *command[1:]]
        argv[argv.index("-c") + 1] = str(conf_path)
        as_pod_user = [require_binary("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups"]
        proc = Proc(as_pod_user + argv, root.parent / f"{root.name}.log")
        wait_port("127.0.0.1", listen, timeout=15, proc=proc.proc)  # what the kubelet's tcpSocket probe does
        lists = "\n  - {name: zen, profile: spamhaus-zen, zone: zen.test}\n"
        e = Engine(load_config_text(z.config_yaml(f"127.0.0.1:{listen}", lists).replace("500ms", "2s")))
        try:
            await e.run_cycle(save=False)
        finally:
            await e.close()
        assert e.health["zen"].up, e.health["zen"].reason
        sbl = e.results[(z.SBL_IP, "zen")]
        assert (sbl.status, sbl.categories, sbl.reasons) == ("listed", ["sbl"], [z.SBL_REASON])
        assert e.results[(z.CSS_V6, "zen")].categories == ["css"]
        assert e.results[(z.CLEAN_IP, "zen")].status == "clean"
        assert proc.alive(), proc.log()
        uid = next(x for x in Path(f"/proc/{proc.pid}/status").read_text().splitlines() if x.startswith("Uid:"))
        assert uid.split()[1:] == ["65534"] * 4, uid  # not root, as the pod's runAsUser
        assert sorted(p.name for p in root.rglob("*")) == sorted(
            ["etc", "infrawatch", "unbound", "unbound.conf", "root.key"]
        )
    finally:
        if proc is not None:
            proc.stop()
        shutil.rmtree(root, ignore_errors=True)
