#!/usr/bin/env python3
"""Config-acceptance differential: HAProxy 2.6 (`haproxy -c -f`) vs `wtedge check`.

Every case is a small haproxy.cfg. Cases come from tests/acceptance/cases/*.cfg
(blocks introduced by a `## NAME` line; the standard header below is prepended unless
the block's first line is `%raw`; `@FE` and `@BK` expand to a standard frontend and
backend) and from the generators in this file (names starting with `gen.`).

For each case both tools check the config (accept = exit 0). A disagreement is
  * "documented" when the README explains it (wtedge refuses a keyword as "not
    supported by Wt Edge"; wtedge accepts a legacy 1.4 keyword with a warning; the
    cross-section ACL rule), or
  * "known" when its name is listed in tests/acceptance/known.txt, or
  * "new" otherwise: the script then exits 1.
Known entries that no longer disagree are reported as stale (exit 1 with --strict).

Usage: tests/acceptance/run.py [--wtedge PATH] [--haproxy PATH] [-k SUBSTR]
                               [--show-agree] [--show-documented] [--strict] [-v]
Needs a built wtedge (cargo build -p local-host --bin wtedge) and haproxy 2.6.
"""
import argparse
import itertools
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

HEADER = """global
    maxconn 1000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
"""
FE = """frontend fe
    bind 127.0.0.1:8080
    default_backend bk"""
BK = """backend bk
    server s1 127.0.0.1:8081"""


def expand(body):
    raw = False
    lines = body.split("\n")
    if lines and lines[0].strip() == "%raw":
        raw = True
        lines = lines[1:]
    text = "\n".join(lines).replace("@FE", FE).replace("@BK", BK)
    if not text.endswith("\n"):
        text += "\n"
    return text if raw else HEADER + text


# ---------------------------------------------------------------- case files
def load_case_files():
    cases = []
    d = os.path.join(HERE, "cases")
    for fn in sorted(os.listdir(d)):
        if not fn.endswith(".cfg"):
            continue
        stem = fn[:-4]
        name, buf = None, []
        with open(os.path.join(d, fn), encoding="utf-8") as f:
            for line in f.read().split("\n"):
                if line.startswith("## "):
                    if name:
                        cases.append((stem + "." + name, "\n".join(buf).strip("\n")))
                    name, buf = line[3:].strip(), []
                elif name is not None:
                    buf.append(line)
        if name:
            cases.append((stem + "." + name, "\n".join(buf).strip("\n")))
    return cases


# ---------------------------------------------------------------- generators
def slug(s):
    s = re.sub(r"[^A-Za-z0-9_.:/!|{}+-]+", "_", s.strip())
    return s or "empty"


def gen_cases():
    out = []

    used = set()

    def add(name, body):
        # slugs may collide (`a b` and `a_b`): number the later ones, deterministically
        n, i = "gen." + name, 2
        while n in used:
            n, i = f"gen.{name}~{i}", i + 1
        used.add(n)
        out.append((n, body))

    # times with units, in `timeout X`, in server inter, in legacy forms
    times = ["0", "5", "5000", "5us", "5ms", "5s", "5m", "5h", "5d", "5S", "5sec", "5 s",
             "1.5s", "-1", "s", "5x", "24d", "25d", "2147483647", "2147483648", "2147483647ms",
             "99999999999999", "0x10", "5ms5"]
    for kind in ["connect", "client", "server", "tunnel", "queue", "check", "http-request",
                 "http-keep-alive"]:
        for t in times if kind == "connect" else ["5s", "5m", "0", "5x", ""]:
            add(f"timeout.{kind}.{slug(t)}",
                f"%raw\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n"
                f"    timeout server 30s\n    timeout {kind} {t}\n@FE\n@BK")
    add("timeout.bogus-kind", "defaults\n    timeout foo 5s\n@FE\n@BK")
    add("timeout.no-kind", "defaults\n    timeout\n@FE\n@BK")
    add("timeout.extra-arg", "defaults\n    timeout connect 5s 6s\n@FE\n@BK")
    for sec, body in [("frontend", "frontend fe\n    bind :8080\n    default_backend bk\n    timeout {k} 5s\n@BK"),
                      ("backend", "@FE\n@BK\n    timeout {k} 5s")]:
        for k in ["connect", "client", "server", "tunnel", "queue", "check", "http-request",
                  "http-keep-alive"]:
            add(f"timeout.in-{sec}.{k}", body.format(k=k))
    for t in ["2s", "2000", "2m", "0", "0ms", "-1", "2x", "1.5s"]:
        for kw in ["inter", "fastinter", "downinter"]:
            add(f"server.{kw}.{slug(t)}", f"@FE\nbackend bk\n    server s1 127.0.0.1:8081 check {kw} {t}")
    for kw, v in [("contimeout", "5000"), ("clitimeout", "30s"), ("srvtimeout", "30000"),
                  ("contimeout", ""), ("srvtimeout", "5x")]:
        add(f"legacy.{kw}.{slug(v)}", f"defaults\n    {kw} {v}\n@FE\n@BK")

    # server arguments
    srvargs = []
    for w in ["0", "1", "100", "256", "257", "-1", "abc", "1.5", ""]:
        srvargs.append(f"weight {w}")
    for kw in ["rise", "fall"]:
        for v in ["0", "1", "3", "-1", "x", "99999", ""]:
            srvargs.append(f"check {kw} {v}")
    for kw in ["maxconn", "maxqueue"]:
        for v in ["0", "1", "-1", "x", ""]:
            srvargs.append(f"{kw} {v}")
    for v in ["0", "1", "65535", "65536", "-1", "x", ""]:
        srvargs.append(f"check port {v}")
    srvargs += ["backup", "disabled", "check", "check check", "ssl", "ssl verify none",
                "ssl verify required", "verify none", "verify", "verify maybe", "foo",
                "check inter", "backup disabled check", "track", "enabled"]
    for a in srvargs:
        add(f"server.arg.{slug(a)}",
            f"@FE\nbackend bk\n    server s0 127.0.0.1:8080\n    server s1 127.0.0.1:8081 {a}")
    addrs = ["127.0.0.1:8081", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65535", "127.0.0.1:65536",
             "127.0.0.1:-1", "127.0.0.1:x", "0.0.0.0:8081", "0.0.0.0", "[::1]:8081", "::1:8081",
             "[::1]", "::1", "ipv6@::1:8081", "ipv4@127.0.0.1:8081", "127.0.0.1:+8081",
             "127.0.0.1:8081-8082", "localhost:8081", ":8081", "*:8081", "300.0.0.1:80",
             "[fe80::1%lo]:80", "127.1:80", "2130706433:80", "unix@/tmp/x.sock", "/tmp/x.sock"]
    for a in addrs:
        add(f"server.addr.{slug(a)}", f"@FE\nbackend bk\n    server s1 {a}")
    add("server.missing-addr", "@FE\nbackend bk\n    server s1")
    add("server.missing-name", "@FE\nbackend bk\n    server")

    # bind forms
    binds = [":8080", "*:8080", "0.0.0.0:8080", "127.0.0.1:8080", "127.0.0.1:8080,127.0.0.1:8082",
             "127.0.0.1:8080, 127.0.0.1:8082", "127.0.0.1:8080,", "[::1]:8080", ":::8080", "::1:8080",
             "[::]:8080", "ipv6@:8080", "ipv4@:8080", "127.0.0.1", ":0", ":65535", ":65536", ":-1",
             ":8080-8082", ":8082-8080", "localhost:8080", "[::1]", "*", ":8080 name web",
             ":8080 id 5", ":8080 id 0", ":8080 id -1", ":8080 id x", ":8080 name", ":8080 id",
             ":8080 v4v6", ":8080 v6only", ":::8080 v4v6", ":::8080 v6only", ":8080 v4v6 v6only",
             ":8080 name a name b", ":8080 ssl", ":8080 ssl crt /nonexistent.pem", ":8080 tfo",
             ":8080 foo", "", "unix@/tmp/wtedge-acc.sock", "/tmp/wtedge-acc.sock", "fd@3",
             "127.0.0.1:8080 127.0.0.1:8082", "\"127.0.0.1:8080\"", "1.2.3:80"]
    for b in binds:
        add(f"bind.{slug(b)}", f"frontend fe\n    bind {b}\n    default_backend bk\n@BK")
    add("bind.two-binds-same-port", "frontend fe\n    bind :8080\n    bind :8080\n    default_backend bk\n@BK")
    add("bind.same-id", "frontend fe\n    bind :8080 id 1\n    bind :8082 id 1\n    default_backend bk\n@BK")

    # acl flags in every order
    flags = ["-i", "-m str", "-n", "--"]
    seen = set()
    for r in range(1, 5):
        for combo in itertools.permutations(flags, r):
            s = " ".join(combo)
            if s in seen:
                continue
            seen.add(s)
            add(f"acl.flags.{slug(s)}",
                f"frontend fe\n    bind :8080\n    acl a hdr(host) {s} example.com\n"
                f"    use_backend bk if a\n    default_backend bk\n@BK")
    for s in ["-i -i", "-m", "-m foo", "-m beg -m end", "-m reg", "-m found", "-m bool",
              "-m len 3", "-m int 3", "-m ip 10.0.0.1", "-m sub", "-m dom x", "-m dir x",
              "-m beg", "-x", "-u 1", "-f /nonexistent", "-M", "-- -i", "-i --", "--", "-i"]:
        add(f"acl.flag-misc.{slug(s)}",
            f"frontend fe\n    bind :8080\n    acl a path {s}\n    use_backend bk if a\n"
            f"    default_backend bk\n@BK")
    # -m on each matcher against a string fetch and an ip fetch
    for m in ["str", "beg", "end", "sub", "dir", "dom", "len", "int", "ip", "found", "bool"]:
        for fetch, pat in [("path", "/x"), ("src", "10.0.0.1"), ("src_port", "80"), ("hdr(host)", "a")]:
            p = "" if m in ("found", "bool") else ("3" if m in ("len", "int") else pat)
            add(f"acl.m.{m}.{slug(fetch)}",
                f"frontend fe\n    bind :8080\n    acl a {fetch} -m {m} {p}\n    use_backend bk if a\n"
                f"    default_backend bk\n@BK")

    # operators and ranges
    for fetch in ["path_len", "src_port", "dst_port", "hdr_cnt(host)", "hdr_len(host)",
                  "url_len", "nbsrv(bk)", "hdr_val(x-n)", "urlp_val(n)", "path"]:
        for op in ["eq 3", "ge 3", "gt 3", "le 3", "lt 3", "3:5", ":5", "3:", "5:3", "3",
                   "-1", "x", "eq", "eq 3 4", "3 4 5", "0x10"]:
            add(f"acl.op.{slug(fetch)}.{slug(op)}",
                f"frontend fe\n    bind :8080\n    acl a {fetch} {op}\n    use_backend bk if a\n"
                f"    default_backend bk\n@BK")

    # CIDR / netmask / ip forms
    for fetch in ["src", "dst", "hdr_ip(x-forwarded-for)"]:
        for ip in ["10.0.0.1", "10.0.0.0/8", "10.0.0.0/255.0.0.0", "10.0.0.1/32", "10.0.0.0/0",
                   "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/255.0.255.0", "10.0.0.0/255.255.0.1",
                   "10.0.0", "10", "300.0.0.1", "::1", "2001:db8::/32", "2001:db8::/129",
                   "::ffff:10.0.0.1", "[::1]", "localhost", "10.0.0.1:80", "10.0.0.1-10.0.0.5",
                   "0.0.0.0/0 ::/0", "10.0.0.0/8.0"]:
            add(f"acl.ip.{slug(fetch)}.{slug(ip)}",
                f"frontend fe\n    bind :8080\n    acl a {fetch} {ip}\n    use_backend bk if a\n"
                f"    default_backend bk\n@BK")

    # fetch forms
    for fx in ["url", "path", "query", "hdr(host)", "hdr", "hdr()", "hdr(host", "hdr(host,1)",
               "hdr_cnt", "hdr_cnt(host)", "urlp(n)", "urlp", "url_param(n)", "url_param",
               "method", "req.ver", "req_ver", "src", "src_port", "dst", "dst_port", "nbsrv(bk)",
               "nbsrv", "nbsrv(nosuch)", "nbsrv(fe)", "always_true", "always_false",
               "url_beg", "url_end", "url_sub", "url_dir", "url_dom", "url_len", "path_beg",
               "path_end", "path_sub", "path_dir", "path_dom", "path_len", "hdr_beg(host)",
               "hdr_end(host)", "hdr_sub(host)", "hdr_dir(host)", "hdr_dom(host)",
               "hdr_len(host)", "hdr_val(host)", "hdr_ip(host)", "urlp_val(n)", "url_reg",
               "path_reg", "req.hdr(host)", "HDR(host)", "Path", "path_beg()", "path(x)",
               "src(x)", "hdr_beg", "nosuchfetch", "req.hdr_cnt(host)", "urlp_beg(n)"]:
        pat = {"method": "GET", "req.ver": "1.1", "req_ver": "1.1", "src": "10.0.0.1",
               "dst": "10.0.0.1", "always_true": "", "always_false": ""}.get(fx, "3" if (
                   "len" in fx or "cnt" in fx or "port" in fx or "nbsrv" in fx or "val" in fx) else "x")
        for with_pat in ([True, False] if pat else [True]):
            p = pat if with_pat else ""
            add(f"acl.fetch.{slug(fx)}{'' if with_pat else '.nopat'}",
                f"frontend fe\n    bind :8080\n    acl a {fx} {p}\n    use_backend bk if a\n"
                f"    default_backend bk\n@BK")
    for meth in ["GET", "get", "GET POST", "FOO", "-i get", "G.T", "GET/1"]:
        add(f"acl.method.{slug(meth)}",
            f"frontend fe\n    bind :8080\n    acl a method {meth}\n    use_backend bk if a\n"
            f"    default_backend bk\n@BK")

    # conditions
    conds = ["a", "!a", "! a", "a b", "a or b", "a || b", "a or", "a ||", "or a", "|| a",
             "a or or b", "!", "! !a", "!!a", "a !b", "{ path_beg /x }", "{path_beg /x}",
             "{ path_beg /x}", "{ }", "{ path_beg }", "a { path_beg /x } or !b",
             "{ path_beg /x } { path_end /y }", "{ always_true }", "{ a }", "a AND b", "a OR b",
             "a && b", "nosuch", "a nosuch", "a or nosuch", "TRUE", "FALSE", "HTTP", "HTTP_1.0",
             "HTTP_1.1", "HTTP_URL_SLASH", "HTTP_URL_STAR", "HTTP_URL_ABS", "HTTP_CONTENT",
             "LOCALHOST", "METH_GET", "METH_POST", "METH_PUT", "METH_HEAD", "METH_OPTIONS",
             "METH_CONNECT", "METH_TRACE", "METH_DELETE", "METH_FOO", "RDP_COOKIE", "REQ_CONTENT",
             "WAIT_END", "HTTP_2.0", "true", "!TRUE", "a or !b c", "( a )", "a{", "{ path_beg /x",
             "path_beg /x }", "a }"]
    for c in conds:
        for kw in ["if", "unless"]:
            add(f"cond.{kw}.{slug(c)}",
                f"frontend fe\n    bind :8080\n    acl a path_beg /a\n    acl b path_beg /b\n"
                f"    use_backend bk {kw} {c}\n    default_backend bk\n@BK")
    for tail in ["if", "unless", "when a", "a", "if a extra", "IF a"]:
        add(f"cond.bare.{slug(tail)}",
            f"frontend fe\n    bind :8080\n    acl a path_beg /a\n    use_backend bk {tail}\n"
            f"    default_backend bk\n@BK")

    # acl names with odd characters, predefined names
    for n in ["a.b", "a-b", "a_b", "a:b", "1a", "A", "a+b", "a/b", "a!b", "a{b", "a|b", "a@b",
              "a$b", "a%b", "a=b", "a(b)", "TRUE", "HTTP", "METH_GET", "or", "if", "!a", "-a",
              "é", "a\\ b", "\"a b\"", "a,b"]:
        add(f"acl.name.{slug(n)}",
            f"frontend fe\n    bind :8080\n    acl {n} path_beg /x\n    use_backend bk if {n}\n"
            f"    default_backend bk\n@BK")

    # redirect forms: every option order and code
    opts = ["code 301", "drop-query", "append-slash"]
    for kind, to in [("location", "/new"), ("prefix", "/p"), ("scheme", "https"),
                     ("location", "http://example.com/x"), ("prefix", "/")]:
        for r in range(0, 4):
            for combo in itertools.permutations(opts, r):
                s = " ".join(combo)
                add(f"redirect.{kind}.{slug(to)}.{slug(s)}",
                    f"frontend fe\n    bind :8080\n    redirect {kind} {to} {s} if {{ path_beg /r }}\n"
                    f"    default_backend bk\n@BK")
    for code in ["300", "301", "302", "303", "304", "305", "307", "308", "309", "200", "x", ""]:
        add(f"redirect.code.{slug(code)}",
            f"frontend fe\n    bind :8080\n    redirect location /n code {code}\n    default_backend bk\n@BK")
    for r in ["redirect location", "redirect", "redirect foo /x", "redirect location /x if",
              "redirect location /x set-cookie A=1", "redirect location /x clear-cookie A",
              "redirect location /x code 301 code 302", "redirect location /x drop-query drop-query",
              "redirect location /x foo", "redirect prefix /x unless { path_beg /y }",
              "redirect location /x ignore-empty", "redirect location /a /b",
              "redirect location /x code 301 if", "redirect location /x if TRUE extra",
              "redirect scheme https if !{ ssl_fc }", "redirect scheme https code 301 if { src 10.0.0.0/8 }",
              "redirect scheme https if !{ hdr(x-proto) https }"]:
        add(f"redirect.misc.{slug(r)}",
            f"frontend fe\n    bind :8080\n    {r}\n    default_backend bk\n@BK")

    # options, each in each section, `no option`, extra args
    opt_list = ["httplog", "dontlognull", "http-server-close", "http-pretend-keepalive",
                "http-keep-alive", "redispatch", "allbackups", "forwardfor", "originalto", "httpchk"]
    sections = {
        "defaults": "defaults\n    {L}\n@FE\n@BK",
        "frontend": "frontend fe\n    bind :8080\n    {L}\n    default_backend bk\n@BK",
        "backend": "@FE\nbackend bk\n    {L}\n    server s1 127.0.0.1:8081",
        "listen": "listen li\n    bind :8080\n    {L}\n    server s1 127.0.0.1:8081",
    }
    for o in opt_list:
        for sec, tpl in sections.items():
            for pre in ["option", "no option"]:
                add(f"option.{sec}.{slug(pre)}.{o}", tpl.replace("{L}", f"{pre} {o}"))
            add(f"option.{sec}.extra-arg.{o}", tpl.replace("{L}", f"option {o} extra"))
        add(f"option.defaults-then-no.{o}",
            f"defaults\n    option {o}\nfrontend fe\n    bind :8080\n    no option {o}\n"
            f"    default_backend bk\nbackend bk\n    no option {o}\n    server s1 127.0.0.1:8081")
    for fwd in ["except 10.0.0.0/8", "except 10.0.0.1", "except", "except ::1/128",
                "header X-Real-IP", "header", "if-none", "except 127.0.0.1 header X-Client if-none",
                "if-none header X-C except 10.0.0.0/8", "header X-C header X-D", "foo",
                "except 10.0.0.0/255.0.0.0", "except 300.0.0.0/8", "except localhost"]:
        add(f"option.forwardfor.{slug(fwd)}",
            f"frontend fe\n    bind :8080\n    option forwardfor {fwd}\n    default_backend bk\n@BK")
    for orig in ["except 10.0.0.0/8", "header X-Orig", "header", "if-none", "except",
                 "except 10.0.0.1 header X-O"]:
        add(f"option.originalto.{slug(orig)}",
            f"frontend fe\n    bind :8080\n    option originalto {orig}\n    default_backend bk\n@BK")
    for chk in ["", "/health", "GET /health", "GET /health HTTP/1.1", "HEAD / HTTP/1.0",
                "GET /health HTTP/1.1\\r\\nHost:\\ example.com", "GET", "get /x", "GET /x HTTP/1.1 extra",
                "GET /x HTTP/2.0", "/x HTTP/1.1", "OPTIONS * HTTP/1.1"]:
        add(f"option.httpchk.{slug(chk)}",
            f"@FE\nbackend bk\n    option httpchk {chk}\n    server s1 127.0.0.1:8081 check")
    for o in ["nosuchoption", "httpclose", "tcplog", "forceclose", "abortonclose", "", "no"]:
        add(f"option.misc.{slug(o)}", f"@FE\nbackend bk\n    option {o}\n    server s1 127.0.0.1:8081")
    for o in ["no", "no foo", "no option", "no log", "no option nosuch", "no redispatch", "no retries 3"]:
        add(f"no.misc.{slug(o)}", f"@FE\nbackend bk\n    {o}\n    server s1 127.0.0.1:8081")

    # every proxy keyword in every section (and in global)
    kw_lines = {
        "mode": "mode http", "bind": "bind :8090", "option": "option httplog",
        "timeout": "timeout connect 5s", "contimeout": "contimeout 5000",
        "clitimeout": "clitimeout 5000", "srvtimeout": "srvtimeout 5000",
        "redispatch": "redispatch", "retries": "retries 3", "maxconn": "maxconn 100",
        "balance": "balance roundrobin", "log": "log 127.0.0.1 local0",
        "default-server": "default-server inter 3s", "default_backend": "default_backend bk",
        "acl": "acl x path_beg /x", "redirect": "redirect location /n if { path_beg /old }",
        "use_backend": "use_backend bk if { path_beg /x }",
        "use-server": "use-server s1 if { path_beg /x }", "server": "server s9 127.0.0.1:8089",
        "log-global": "log global",
    }
    where = {
        "global": "%raw\nglobal\n    {L}\ndefaults\n    mode http\n    timeout connect 5s\n"
                  "    timeout client 30s\n    timeout server 30s\n@FE\nbackend bk\n    server s1 127.0.0.1:8081",
        "defaults": "defaults\n    {L}\n@FE\nbackend bk\n    server s1 127.0.0.1:8081",
        "frontend": "frontend fe\n    bind :8080\n    {L}\n    default_backend bk\nbackend bk\n    server s1 127.0.0.1:8081",
        "backend": "@FE\nbackend bk\n    {L}\n    server s1 127.0.0.1:8081",
        "listen": "listen li\n    bind :8080\n    {L}\n    server s1 127.0.0.1:8081\nbackend bk\n    server s1 127.0.0.1:8081",
    }
    for kw, line in kw_lines.items():
        for sec, tpl in where.items():
            add(f"section.{kw}.in-{sec}", tpl.replace("{L}", line))
    # extra / missing arguments for each keyword
    argcases = {
        "mode": ["mode", "mode http extra", "mode tcp", "mode health", "mode HTTP"],
        "retries": ["retries", "retries 0", "retries -1", "retries x", "retries 3 4", "retries 1000"],
        "maxconn": ["maxconn", "maxconn 0", "maxconn -1", "maxconn x", "maxconn 1 2"],
        "balance": ["balance", "balance roundrobin extra", "balance leastconn", "balance ROUNDROBIN",
                    "balance static-rr", "balance source"],
        "log": ["log", "log global", "log global extra", "log 127.0.0.1 local0 info",
                "log 127.0.0.1:514 local0", "log 127.0.0.1 nosuchfacility", "log 127.0.0.1",
                "log /dev/log local0", "log stdout format raw local0", "no log"],
        "redispatch": ["redispatch extra", "option redispatch 1", "option redispatch -1"],
        "default_backend": ["default_backend", "default_backend bk extra", "default_backend nosuch"],
        "use_backend": ["use_backend", "use_backend bk", "use_backend nosuch if TRUE",
                        "use_backend %[req.hdr(host)]", "use_backend bk if TRUE extra"],
        "acl": ["acl", "acl a", "acl a path_beg", "acl a path_beg /x /y /z"],
    }
    for kw, lines in argcases.items():
        for line in lines:
            sec = "backend" if kw in ("retries", "balance", "redispatch") else "frontend"
            add(f"args.{kw}.{slug(line)}", where[sec].replace("{L}", line))
    for line in ["use-server", "use-server s1", "use-server s1 if", "use-server nosuch if TRUE",
                 "use-server s1 if TRUE", "use-server s1 unless TRUE", "use-server s1 when TRUE",
                 "use-server s1 if { path_beg /x } extra", "use-server s1 s2 if TRUE",
                 "use-server %[path] if TRUE", "use-server s0 if TRUE"]:
        add(f"args.use-server.{slug(line)}",
            f"@FE\nbackend bk\n    {line}\n    server s1 127.0.0.1:8081\n    server s2 127.0.0.1:8082")
    gl = ["log 127.0.0.1 local0", "log", "maxconn", "maxconn 0", "maxconn x", "maxconn 1 2",
          "user nobody", "user", "group nogroup", "group", "uid 65534", "uid", "uid x", "gid 65534",
          "gid", "daemon", "daemon extra", "nbproc 1", "nbproc 2", "nbproc", "nbthread 2",
          "nbthread", "nbthread 0", "chroot /tmp", "chroot", "pidfile /tmp/wtedge-acc.pid",
          "pidfile", "quiet", "quiet extra", "node n1", "node", "description hello world",
          "description", "stats socket /tmp/x.sock", "nosuchglobal", "mode http", "timeout connect 5s",
          "noreuseport", "noreuseport x"]
    for line in gl:
        add(f"global.{slug(line)}", where["global"].replace("{L}", line))
    return out


# ---------------------------------------------------------------- running
def run_one(hap, wte, idx, name, text, tmpdir):
    # the index keeps file names unique (sanitized case names may collide)
    path = os.path.join(tmpdir, f"{idx:05d}-" + re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:150] + ".cfg")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    h = subprocess.run([hap, "-c", "-f", path], capture_output=True, text=True, errors="replace", timeout=60)
    w = subprocess.run([wte, "check", path], capture_output=True, text=True, errors="replace", timeout=60)
    hmsgs = [l.split(" : ", 2)[-1] if " : " in l else l
             for l in (h.stdout + h.stderr).splitlines()
             if ("ALERT" in l or "WARNING" in l) and "Fatal errors" not in l
             and "Error(s) found" not in l]
    wmsgs = [l.replace(path, "F") for l in (w.stdout + w.stderr).splitlines()
             if ": error:" in l or ": warning:" in l]
    hmsgs = [m.replace(path, "F") for m in hmsgs]
    return {"name": name, "text": text, "h_ok": h.returncode == 0, "w_ok": w.returncode == 0,
            "h_msgs": hmsgs, "w_msgs": wmsgs}


DOCUMENTED = [
    # wtedge refuses what it does not implement (README: never silently ignored)
    (False, re.compile(r"error: .*not supported by Wt Edge")),
    # legacy HAProxy 1.4 keywords: accepted by wtedge with a warning
    (True, re.compile(r"legacy|HAProxy 1\.4|modern spelling")),
    # frontend ACL used in a backend (README "Known differences")
    (True, re.compile(r"declared in (the )?frontend|frontend's declaration|cross-section|HAProxy 2\.6 refuses")),
]


def documented(r):
    # the message proper, without its hint
    text = "\n".join(m.split(" (hint:")[0] for m in r["w_msgs"])
    for w_ok, rx in DOCUMENTED:
        if r["w_ok"] == w_ok and rx.search(text):
            return True
    return False


def load_known(path):
    known = {}
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, why = line.partition(" ")
            known[name] = why.strip()
    return known


def verdict(ok):
    return "accept" if ok else "REFUSE"


def show(r, out):
    out.write(f"=== {r['name']}: haproxy {verdict(r['h_ok'])}, wtedge {verdict(r['w_ok'])}\n")
    body = r["text"][len(HEADER):] if r["text"].startswith(HEADER) else r["text"]
    for l in body.rstrip("\n").split("\n"):
        out.write("    | " + l + "\n")
    for m in r["h_msgs"] or ["(no message)"]:
        out.write("  haproxy: " + m + "\n")
    for m in r["w_msgs"] or ["(no message)"]:
        out.write("  wtedge:  " + m + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wtedge", default=os.path.join(ROOT, "target", "debug", "wtedge"))
    ap.add_argument("--haproxy", default="haproxy")
    ap.add_argument("--known", default=os.path.join(HERE, "known.txt"))
    ap.add_argument("-k", default=None, help="only cases whose name contains this")
    ap.add_argument("-j", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    ap.add_argument("--show-agree", action="store_true")
    ap.add_argument("--show-documented", action="store_true")
    ap.add_argument("--strict", action="store_true", help="stale known.txt entries fail")
    ap.add_argument("-v", action="store_true", help="print known disagreements in full")
    ap.add_argument("--list-names", action="store_true", help="print new disagreement names only")
    args = ap.parse_args()
    for exe in (args.wtedge,):
        if not os.path.exists(exe):
            sys.exit(f"{exe} missing: cargo build -p local-host --bin wtedge")
    cases = load_case_files() + gen_cases()
    names = [n for n, _ in cases]
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        sys.exit(f"duplicate case names: {sorted(dups)}")
    if args.k:
        cases = [c for c in cases if args.k in c[0]]
    known = load_known(args.known)
    with tempfile.TemporaryDirectory(prefix="wtedge-acc-") as tmp:
        with ThreadPoolExecutor(args.j) as ex:
            results = list(ex.map(lambda ic: run_one(args.haproxy, args.wtedge, ic[0], ic[1][0],
                                                     expand(ic[1][1]), tmp), enumerate(cases)))
    out = sys.stdout
    new, knownd, docd, agree = [], [], [], []
    for r in results:
        if r["h_ok"] == r["w_ok"]:
            agree.append(r)
        elif documented(r):
            docd.append(r)
        elif r["name"] in known:
            knownd.append(r)
        else:
            new.append(r)
    if args.show_agree:
        for r in agree:
            show(r, out)
    if args.show_documented:
        out.write("\n##### disagreements the README documents\n")
        for r in docd:
            show(r, out)
    if args.v and knownd:
        out.write("\n##### known disagreements (known.txt)\n")
        for r in knownd:
            out.write(f"# known: {known[r['name']]}\n")
            show(r, out)
    if args.list_names:
        for r in new:
            out.write(r["name"] + "\n")
    elif new:
        out.write("\n##### NEW disagreements (not documented, not in known.txt)\n")
        for r in new:
            show(r, out)
    ran = {r["name"] for r in results}
    stale = [n for n in known if n in ran and n not in {r["name"] for r in knownd}]
    for n in stale:
        out.write(f"stale known.txt entry (they agree now, or the case is gone): {n}\n")
    out.write(f"\n{len(results)} configs: {len(agree)} agree, {len(docd)} documented differences, "
              f"{len(knownd)} known, {len(new)} new, {len(stale)} stale known entries\n")
    sys.exit(1 if new or (args.strict and stale) else 0)


if __name__ == "__main__":
    main()
