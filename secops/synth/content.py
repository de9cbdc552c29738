"""The fixed vocabulary of the scenarios: IP ranges, names, signatures, web paths, commands."""

from __future__ import annotations

from datetime import UTC, datetime

DEFAULT_START = datetime(2026, 11, 20, tzinfo=UTC)

# Public /8s (none of them RFC 1918, CGNAT, loopback, link-local, multicast or reserved).
PUBLIC_FIRST_OCTETS = (
    5,
    23,
    31,
    37,
    41,
    45,
    46,
    51,
    62,
    77,
    80,
    85,
    89,
    91,
    93,
    103,
    109,
    116,
    141,
    146,
    159,
    176,
    178,
    185,
    188,
    190,
    193,
    194,
    195,
    200,
    212,
    213,
    217,
    222,
)
TEST_NETS = ("203.0.113", "198.51.100")

EMPLOYEES = (
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "yves",
)
# Accounts attackers guess; none of them is an employee, so noise never touches them.
ATTACK_USERS = (
    "root",
    "admin",
    "test",
    "oracle",
    "ubuntu",
    "user",
    "guest",
    "pi",
    "ftpuser",
    "support",
)
LOGIN_USERS = ("deploy", "jenkins", "git", "ansible", "backup", "webadmin")
SPRAY_EXTRA = (
    "postgres",
    "mysql",
    "www",
    "tomcat",
    "nagios",
    "hadoop",
    "minecraft",
    "ec2-user",
    "centos",
    "debian",
    "steam",
    "vagrant",
    "sysadmin",
    "operator",
    "ts3",
)

EXPLOITS_443 = (
    (
        2024897,
        3,
        "ET EXPLOIT Apache Struts RCE (CVE-2017-5638)",
        "Attempted Administrator Privilege Gain",
    ),
    (
        2034647,
        2,
        "ET EXPLOIT Apache log4j RCE Attempt (http ldap) (CVE-2021-44228)",
        "Attempted Administrator Privilege Gain",
    ),
    (
        2031502,
        1,
        "ET EXPLOIT Apache HTTP Server Path Traversal (CVE-2021-41773)",
        "Attempted Administrator Privilege Gain",
    ),
    (
        2027096,
        2,
        "ET EXPLOIT Confluence Server Widget Connector Template Injection (CVE-2019-3396)",
        "Web Application Attack",
    ),
    (
        2030469,
        1,
        "ET EXPLOIT F5 TMUI RCE vulnerability CVE-2020-5902 Attempt M1",
        "Attempted Administrator Privilege Gain",
    ),
)
EXPLOITS_DB = (
    (
        2027354,
        1,
        "ET EXPLOIT PostgreSQL COPY FROM PROGRAM Command Execution (CVE-2019-9193)",
        "Attempted Administrator Privilege Gain",
    ),
    (
        2029123,
        2,
        "ET EXPLOIT Possible PostgreSQL Authentication Bypass (CVE-2013-1899)",
        "Attempted User Privilege Gain",
    ),
)
NOISE_ALERTS = (
    (
        2013504,
        5,
        "ET POLICY GNU/Linux APT User-Agent Outbound likely related to package management",
        "Not Suspicious Traffic",
    ),
    (
        2016149,
        2,
        "ET INFO Session Traversal Utilities for NAT (STUN Binding Request)",
        "Misc activity",
    ),
    (2033966, 1, "ET INFO TLS Handshake Failure", "Potentially Bad Traffic"),
    (2027390, 3, "ET INFO User-Agent (python-requests) Inbound to Webserver", "Misc activity"),
    (2013028, 6, "ET POLICY curl User-Agent Outbound", "Potentially Bad Traffic"),
    (2002157, 9, "ET POLICY Outdated Windows Flash Version IE", "Not Suspicious Traffic"),
    (2025275, 3, "ET INFO Windows OS Submitting USB Metadata to Microsoft", "Misc activity"),
)
WEB_PATHS = (
    "/",
    "/index.html",
    "/about.html",
    "/products",
    "/products/42",
    "/contact",
    "/css/site.css",
    "/js/app.js",
    "/img/logo.png",
    "/favicon.ico",
    "/login",
    "/api/v1/status",
    "/news/2026/11",
    "/robots.txt",
    "/sitemap.xml",
    "/search?q=pricing",
)
MISSING_PATHS = (
    "/old-page.html",
    "/img/banner-2019.png",
    "/wp-login.php",
    "/apple-touch-icon.png",
    "/products/999",
    "/.well-known/security.txt",
)
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
)
ADMIN_COMMANDS = (
    "/usr/bin/systemctl restart nginx",
    "/usr/bin/systemctl status postgresql",
    "/usr/bin/apt-get update",
    "/usr/bin/journalctl -u sshd --since today",
    "/usr/bin/tail -n 100 /var/log/syslog",
    "/usr/bin/du -sh /var/lib",
    "/usr/sbin/logrotate -f /etc/logrotate.conf",
    "/usr/bin/docker ps",
)
ZONE_IFACE = {
    "internet": "outside",
    "dmz": "dmz",
    "corp": "inside",
    "servers": "servers",
    "mgmt": "mgmt",
}
