#!/usr/bin/env python3
"""Compares `rdpdiag probe --json` with nmap's rdp-enum-encryption / rdp-ntlm-info XML, per address,
against what each server really is. Called by probe_vs_nmap.sh: OUT_DIR COMMIT RDPDIAG_ARGS.

Reads OUT/servers.txt (`address:port behaviour`), OUT/rdpdiag.jsonl, OUT/nmap.xml, OUT/*.time; prints
Markdown: the environment, the timing table, per-field agreement, and every disagreement with who is
right (the server's real behaviour decides) and why.
"""
import datetime
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

out, commit, rdpdiag_args = sys.argv[1], sys.argv[2], sys.argv[3]

RDP, SSL, HYBRID, HYBRID_EX, RDSTLS = "RDP", "SSL", "HYBRID", "HYBRID_EX", "RDSTLS"
PROTO_BITS = {0: RDP, 1: SSL, 2: HYBRID, 8: HYBRID_EX, 4: RDSTLS}
CODES = {
    "SSL_REQUIRED_BY_SERVER": 1,
    "SSL_NOT_ALLOWED_BY_SERVER": 2,
    "SSL_CERT_NOT_ON_SERVER": 3,
    "INCONSISTENT_FLAGS": 4,
    "HYBRID_REQUIRED_BY_SERVER": 5,
    "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER": 6,
}
# nmap's rdp-enum-encryption requests (rdp-enum-encryption.nse, PROTOCOLS): note CredSSP is SSL|HYBRID.
NMAP_PROTO = {
    "Native RDP": (RDP, 0),
    "SSL": (SSL, 1),
    "CredSSP (NLA)": (HYBRID, 3),
    "RDSTLS": (RDSTLS, 4),
    "CredSSP with Early User Auth": (HYBRID_EX, 8),
}


def truth(behaviour):
    """What the server really does: protocols it selects when offered alone, NLA, failure codes, TLS."""
    t = {"protocols": set(), "nla": False, "codes": set(), "tls": set(), "ntlm": False}
    m = re.fullmatch(r"refuse-(\d+)", behaviour)
    if m:
        t["codes"] = {int(m.group(1))}
    elif behaviour == "select-ssl-tls":
        t["protocols"], t["tls"] = {SSL}, {"TLS 1.2", "TLS 1.3"}
    elif behaviour == "select-rdp":
        t["protocols"] = {RDP}
    elif behaviour == "ssl-hangup-after-hello":
        t["protocols"] = {SSL}  # selected, though no TLS handshake completes
    elif behaviour in ("rst-after-request", "silent"):
        pass
    elif behaviour == "nla-challenge":  # HYBRID selected whatever was offered, TLS, an NTLM CHALLENGE
        t["protocols"], t["nla"], t["tls"], t["ntlm"] = {HYBRID}, True, {"TLS 1.2", "TLS 1.3"}, True
    elif behaviour == "xrdp-negotiate":
        t["protocols"], t["tls"] = {RDP, SSL}, {"TLS 1.2", "TLS 1.3"}
    elif behaviour == "xrdp-rdp":
        t["protocols"] = {RDP}
    elif behaviour == "xrdp-tls13":
        t["protocols"], t["tls"] = {RDP, SSL}, {"TLS 1.3"}
    else:
        return None
    return t


def timing(name):
    wall = rss = None
    for line in open(os.path.join(out, f"{name}.time")):
        line = line.strip()
        if line.startswith("Elapsed (wall clock) time"):
            parts = line.rsplit(" ", 1)[1].split(":")
            wall = sum(float(p) * 60**i for i, p in enumerate(reversed(parts)))
        elif line.startswith("Maximum resident set size"):
            rss = int(line.rsplit(" ", 1)[1]) / 1024
    return wall, rss


def rdpdiag_answers():
    res = {}
    for line in open(os.path.join(out, "rdpdiag.jsonl")):
        o = json.loads(line)
        if o.get("kind") != "target":
            continue
        protos, codes, answers = set(), set(), {}
        for p in o["protocols"]:
            req = p["requested"]
            answers[req] = p["answer"]
            if req in PROTO_BITS and p["selected"] == req:
                protos.add(PROTO_BITS[req])
        for c in o["connections"]:
            for e in c["timeline"]:
                if e.get("event") == "negotiation_failure" and e.get("dir") == "server_to_client":
                    codes.add(e["failure_code"])
        nla = {"supported": True, "required": True, "not supported": False}.get(o["nla"])
        tls = {v["version"] for v in o["tls_versions"] if v["answer"] == "accepted"}
        res[o["target"]] = {
            "protocols": protos,
            "nla": nla,
            "codes": codes,
            "tls": tls,
            "ntlm": o.get("server_info") is not None,
            "verdict": o["verdict"],
            "answers": answers,
            "answered": bool(o["protocols"]),
        }
    return res


def nmap_answers():
    res = {}
    if not os.path.exists(os.path.join(out, "nmap.xml")):
        return None
    root = ET.parse(os.path.join(out, "nmap.xml")).getroot()
    for host in root.iter("host"):
        addr = host.find("address").get("addr")
        scripts = {s.get("id"): s.get("output") for s in host.iter("script")}
        enc = scripts.get("rdp-enum-encryption")
        r = {"protocols": set(), "nla": None, "codes": set(), "tls": None,
             "ntlm": "rdp-ntlm-info" in scripts, "raw": enc, "answered": False}
        if enc and "Security layer" in enc:
            r["answered"] = True
            for line in enc.splitlines():
                m = re.match(r"\s*(.+?): (SUCCESS|FAILED|Unknown)(?: \((.+)\))?$", line.rstrip())
                if not m or m.group(1) not in NMAP_PROTO:
                    continue
                proto = NMAP_PROTO[m.group(1)][0]
                if m.group(2) == "SUCCESS":
                    r["protocols"].add(proto)
                if m.group(3):
                    r["codes"].add(CODES.get(m.group(3), m.group(3)))
            r["nla"] = HYBRID in r["protocols"] or HYBRID_EX in r["protocols"]
        res[addr] = r
    return res


def show(v):
    if v is None:
        return "no answer"
    if isinstance(v, set):
        return "{" + ", ".join(sorted(str(x) for x in v)) + "}" if v else "{}"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


servers = []
for line in open(os.path.join(out, "servers.txt")):
    a, b = line.split()
    servers.append((a.rsplit(":", 1)[0], b))
rd, nm = rdpdiag_answers(), nmap_answers()
(rw, rr) = timing("rdpdiag")
(nw, nr) = timing("nmap") if nm is not None else (None, None)
n = len(servers)
kinds = {}
for _, b in servers:
    kinds[b] = kinds.get(b, 0) + 1
setup = open(os.path.join(out, "setup.txt")).read().strip() if os.path.exists(os.path.join(out, "setup.txt")) else ""

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
nproc = os.cpu_count()
nmap_version = subprocess.run(["nmap", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
print(f"## probe vs nmap, {datetime.date.today().isoformat()}\n")
print(f"- machine: nproc {nproc}, {cpu}; commit {commit}; {nmap_version}")
print(f"- targets: {n} ({n - 3} scripted lab servers, 3 xrdp), port 3389, {servers[0][0]}-{servers[-1][0]}; {setup}")
print("- server kinds: " + ", ".join(f"{b} {c}" for b, c in kinds.items()))
print(f"- rdpdiag: `rdpdiag probe --json {rdpdiag_args}`".replace("  ", " ").rstrip() + " (release)")
print("- nmap: `nmap -d -Pn -n -p 3389 --script rdp-enum-encryption,rdp-ntlm-info -oX …`")
print(f"- {open(os.path.join(out, 'exit.txt')).read().strip()}\n")
print("| tool | wall s | targets/s | max RSS MB |")
print("|---|---:|---:|---:|")
print(f"| rdpdiag probe | {rw:.2f} | {n / rw:.1f} | {rr:.1f} |")
if nm is None:
    print("\n(nmap not run: RUN_NMAP=0)")
    verdicts = {}
    for addr, beh in servers:
        v = rd[addr]["verdict"] if addr in rd else "missing"
        verdicts.setdefault(beh, set()).add(v)
    wrong = sum(1 for a, b in servers
                if truth(b) and a in rd and any(rd[a][f] != truth(b)[f] for f in ("protocols", "codes", "tls")))
    print(f"rdpdiag answers contradicting the servers (protocols, codes, TLS versions): {wrong} addresses; "
          f"missing: {sum(1 for a, _ in servers if a not in rd)}")
    print("rdpdiag verdict per server kind: " + "; ".join(f"{b} → {', '.join(sorted(v))}" for b, v in verdicts.items()))
    sys.exit(0)
print(f"| nmap | {nw:.2f} | {n / nw:.1f} | {nr:.1f} |")
print(f"\nrdpdiag is {nw / rw:.2f}× as fast as nmap on this run (target of issue 5: ≥ 20×).\n")

FIELDS = [("protocols", "security protocols selected when offered alone"),
          ("nla", "NLA (CredSSP) supported"),
          ("codes", "RDP_NEG failure codes"),
          ("tls", "TLS versions accepted"),
          ("ntlm", "NTLM CHALLENGE info (rdp-ntlm-info)")]
agree_all = 0
per_field = {f: [0, 0, 0] for f, _ in FIELDS}  # agree, disagree, only one tool answered
wrong = {"rdpdiag": 0, "nmap": 0}
disagreements = []
for addr, beh in servers:
    t, r, m = truth(beh), rd.get(addr), nm.get(addr)
    same_reported = True
    for f, _ in FIELDS:
        rv = r[f] if r else None
        mv = m[f] if m else None
        if f in ("protocols", "nla", "codes") and m and not m["answered"]:
            mv = None
        if rv == mv:
            per_field[f][0] += 1
            continue
        if f != "tls":
            same_reported = False
        if rv is None or mv is None:
            per_field[f][2] += 1
            who = "nmap" if mv is None else "rdpdiag"
            tv = t[f] if t else None
            if f == "tls" and mv is None:
                why = "nmap: these scripts do not enumerate TLS versions"
            elif mv is None:
                why = f"nmap: {m['raw'] if m and m['raw'] else 'no script output'}"
            else:
                why = "rdpdiag gave no answer"
            ok = "right" if (tv == (rv if mv is None else mv)) else "WRONG"
            disagreements.append((addr, beh, f, rv, mv, tv, f"only {'rdpdiag' if mv is None else 'nmap'} answered ({ok}); {why}"))
            if ok == "WRONG":
                wrong["rdpdiag" if mv is None else "nmap"] += 1
            continue
        per_field[f][1] += 1
        tv = t[f] if t else None
        r_ok, m_ok = rv == tv, mv == tv
        if r_ok and not m_ok:
            right = "rdpdiag"
            wrong["nmap"] += 1
        elif m_ok and not r_ok:
            right = "nmap"
            wrong["rdpdiag"] += 1
        else:
            right = "neither" if not r_ok else "both?"
            wrong["rdpdiag"] += not r_ok
            wrong["nmap"] += not m_ok
        why = ""
        if f in ("protocols", "nla") and isinstance(mv, set | bool):
            extra = (mv - rv) if f == "protocols" else ({HYBRID} if mv else set())
            sel = []
            for req, name in PROTO_BITS.items():
                if name in extra and r:
                    sel.append(f"{name}-only request → {r['answers'].get(req, '?')}")
            if extra:
                why = ("nmap counts any RDP_NEG_RSP as SUCCESS without reading selectedProtocol "
                       "(its CredSSP request is SSL|HYBRID, so SSL selected reads as NLA); rdpdiag: "
                       + "; ".join(sel))
        if f == "codes":
            why = "nmap names codes 1-5 only; others print as Unknown"
        disagreements.append((addr, beh, f, rv, mv, tv, f"{right} right; {why}".rstrip("; ")))
    agree_all += same_reported

print(f"### Correctness\n\nAddresses where both tools give the same answers on every field nmap reports "
      f"(protocols, NLA, failure codes, NTLM info): **{agree_all} of {n}**. nmap's two scripts do not "
      "enumerate TLS versions; rdpdiag's answers there are checked against the truth only.\n")
print("| field | agree | disagree | only one tool answered |")
print("|---|---:|---:|---:|")
for f, label in FIELDS:
    a, d, o = per_field[f]
    print(f"| {label} | {a} | {d} | {o} |")
print(f"\nAnswers that contradict the server's real behaviour (per field): rdpdiag {wrong['rdpdiag']}, "
      f"nmap {wrong['nmap']}.\n")
print("Disagreements, grouped (truth: the lab behaviour or the xrdp configuration):\n")
print("| server | n | addresses | field | rdpdiag | nmap | truth | who is right, why |")
print("|---|---:|---|---|---|---|---|---|")
groups = {}
for addr, beh, f, rv, mv, tv, why in disagreements:
    if f == "tls":
        continue  # nmap's scripts never report TLS versions: summarised below instead
    key = (beh, f, show(rv), show(mv), show(tv), why)
    groups.setdefault(key, []).append(addr)
for (beh, f, rv, mv, tv, why), addrs in groups.items():
    shown = ", ".join(addrs[:4]) + (f", … ({len(addrs) - 4} more)" if len(addrs) > 4 else "")
    print(f"| {beh} | {len(addrs)} | {shown} | {f} | {rv} | {mv} | {tv} | {why} |")
tls_right = sum(1 for a, b in servers if a in rd and truth(b) and rd[a]["tls"] == truth(b)["tls"])
tls_servers = [(a, b) for a, b in servers if truth(b) and truth(b)["tls"]]
print(f"\nTLS versions: nmap's two scripts report none. rdpdiag's accepted versions match the server's "
      f"configuration on {tls_right} of {n} addresses (of them {len(tls_servers)} speak TLS: "
      + ", ".join(sorted({f"{b} {show(truth(b)['tls'])}" for a, b in tls_servers})) + ").")
verdicts = {}
for addr, beh in servers:
    v = rd[addr]["verdict"] if addr in rd else "missing"
    verdicts.setdefault(beh, set()).add(v)
print("\nrdpdiag verdict per server kind: " + "; ".join(f"{b} → {', '.join(sorted(v))}" for b, v in verdicts.items()))
