"""The DNSBL test data served by rbldnsd: every classification rule has an address here."""

from __future__ import annotations

from .rbldnsd import Zone

CLEAN_IP = "192.0.2.1"
SBL_IP = "192.0.2.10"  # 127.0.0.2 sbl + TXT reason
PBL_IP = "192.0.2.11"  # 127.0.0.10 pbl-isp
MULTI_IP = "192.0.2.12"  # 127.0.0.4 (second dataset) + 127.0.0.2: two A records
ERR_252 = "192.0.2.252"
ERR_254 = "192.0.2.254"
ERR_255 = "192.0.2.255"
ERR_DBL = "192.0.2.20"  # 127.0.1.255
ERR_LOOP1 = "192.0.2.21"  # 127.0.0.1
ERR_OUTSIDE = "192.0.2.22"  # 10.0.0.1, outside 127/8
UNKNOWN_CODE = "192.0.2.23"  # 127.0.0.99, not in the ZEN profile
CSS_V6 = "2001:db8::10"  # 127.0.0.3 css
CLEAN_V6 = "2001:db8::1"
SPAMCOP_IP = "192.0.2.30"  # only on scop.test (a SpamCop look-alike: a minor list)
SPAM_DOMAIN = "spam.example"  # 127.0.1.2 spam
CLEAN_DOMAIN = "clean.example"

SBL_REASON = "Listed by SBL, see https://check.spamhaus.org/sbl/query/SBL123"


def standard_zones() -> list[Zone]:
    return [
        # zen.test: a Spamhaus ZEN look-alike
        Zone(
            "zen.test",
            "ip4set",
            [
                ":127.0.0.2:Listed by SBL, see https://check.spamhaus.org/sbl/query/SBL123",
                "127.0.0.2",
                SBL_IP,
                MULTI_IP,
                f"{PBL_IP} :127.0.0.10:PBL listing",
                f"{ERR_252} :127.255.255.252:",
                f"{ERR_254} :127.255.255.254:",
                f"{ERR_255} :127.255.255.255:",
                f"{ERR_DBL} :127.0.1.255:",
                f"{ERR_LOOP1} :127.0.0.1:",
                f"{ERR_OUTSIDE} :10.0.0.1:",
                f"{UNKNOWN_CODE} :127.0.0.99:",
            ],
        ),
        Zone("zen.test", "ip4set", [f"{MULTI_IP} :127.0.0.4:XBL listing"], soa=False),
        Zone("zen.test", "ip6trie", [f"{CSS_V6} :127.0.0.3:CSS listing"], soa=False),
        # bar.test: a Barracuda look-alike listing the SBL address too
        Zone("bar.test", "ip4set", [":127.0.0.2:Barracuda listed", "127.0.0.2", SBL_IP]),
        # scop.test: a SpamCop look-alike (minor list) listing SPAMCOP_IP only
        Zone(
            "scop.test",
            "ip4set",
            [":127.0.0.2:Blocked - see https://www.spamcop.net/bl.shtml?$", "127.0.0.2", SPAMCOP_IP],
        ),
        # dbl.test: a DBL look-alike
        Zone("dbl.test", "dnset", ["dbltest.com :127.0.1.2:test", f"{SPAM_DOMAIN} :127.0.1.2:Spam domain"]),
        # wild.test lists everything (fails the 127.0.0.1 test point)
        Zone("wild.test", "ip4trie", ["0/0 :127.0.0.2:everything is listed"]),
        # blocked.test answers Spamhaus' "public resolver" code to everything
        Zone("blocked.test", "ip4trie", ["0/0 :127.255.255.254:"]),
        # dead.test lists nothing (fails the 127.0.0.2 test point)
        Zone("dead.test", "ip4set", []),
        # gen.test (generic dataset): 192.0.2.1 has only a TXT record -> NOERROR without A (NODATA)
        Zone(
            "gen.test",
            "generic",
            ["2.0.0.127 A 127.0.0.2", f'{".".join(reversed(CLEAN_IP.split(".")))} TXT "a name without A record"'],
        ),
        # refused.test: REFUSED to every client
        Zone("refused.test", "ip4set", ["127.0.0.2"]),
        Zone("refused.test", "acl", ["0/0 :refuse"]),
    ]


def config_yaml(nameserver: str, lists: str | None = None, targets: str | None = None, extra: str = "") -> str:
    lists = (
        lists
        if lists is not None
        else """
  - {name: zen, profile: spamhaus-zen, zone: zen.test}
  - {name: barracuda, profile: barracuda, zone: bar.test}
  - {name: dbl, profile: spamhaus-dbl, zone: dbl.test}
"""
    )
    targets = (
        targets
        if targets is not None
        else f"""
  - {{ip: {CLEAN_IP}, provider: aws, pool: transactional}}
  - {{ip: {SBL_IP}, provider: sendgrid, pool: marketing}}
  - {{ip: {CSS_V6}, provider: aws, pool: v6}}
  - {{domain: {SPAM_DOMAIN}}}
  - {{domain: {CLEAN_DOMAIN}}}
"""
    )
    return f"""resolver:
  nameservers: ["{nameserver}"]
  timeout: 500ms
  retries: 1
interval: 10s
lists:{lists}
targets:{targets}
{extra}"""
