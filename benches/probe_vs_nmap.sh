#!/usr/bin/env bash
# probe_vs_nmap.sh — issue 5's comparison: `rdpdiag probe` against nmap's rdp-enum-encryption and
# rdp-ntlm-info scripts, on the same loopback servers, for speed and for correctness.
#
# What it does (everything on 127.0.0.0/8; nothing else is ever contacted):
#   1. builds rdpdiag and examples/rdp_lab.rs (release) and copies both binaries aside (the target
#      directory may be shared);
#   2. starts the lab: N scripted servers (default 64) on N consecutive addresses from 127.0.0.2 (they run on
#      across octets: N=2000 fills 127.0.0.2 .. 127.0.7.209), port 3389, each with one behaviour of the mix
#      (RDP_NEG failure codes 1-7, SSL selected whatever was offered with a real TLS handshake, standard RDP
#      selected, SSL then a hang-up after the ClientHello, RST after the request, silence; LAB_MIX may
#      weight names, e.g. `select-ssl-tls*20,silent`, and add nla-challenge); the lab stops by itself after
#      LAB_SECONDS;
#   3. starts three real xrdp servers on the next three addresses (as tests/probe_xrdp.rs does:
#      `xrdp -n -c FILE`, a valid openssl certificate): security_layer=negotiate with TLS 1.2 and 1.3,
#      security_layer=rdp, and security_layer=negotiate with TLS 1.3 only; XRDP_FORK=true (the default
#      here, unlike the tests) lets each xrdp serve connections concurrently in forked children, false
#      serves one connection at a time as the tests do;
#   4. waits until every address listens, then runs, one after the other (never at once: the machine is
#      small), each under `/usr/bin/time -v`, the targets given in a file:
#        (a) rdpdiag probe --json $RDPDIAG_ARGS --targets-file - <FILE (FROM_STDIN=0: --targets-file FILE)
#        (b) nmap -d -Pn -n -p 3389 --script rdp-enum-encryption,rdp-ntlm-info -oX FILE -iL FILE
#      (`-d` makes rdp-enum-encryption print the RDP_NEG failure codes; without it they are not shown);
#      NMAP_ARGS adds nmap options (e.g. "--max-parallelism 256": NSE lets only 20 script threads hold
#      open sockets by default); RUN_NMAP=0 skips nmap (rdpdiag alone, e.g. to compare its options; no correctness comparison);
#   5. compares the answers per address with each other and with what each server really is (the lab's
#      behaviour, the xrdp configuration): supported security protocols, NLA, RDP_NEG failure codes, TLS
#      versions, NTLM info. Prints the timing table and the correctness comparison, and writes both to
#      OUT/report.md.
#
# Environment: N (64, at most 60000), LAB_MIX (comma-separated behaviour names, each optionally `*WEIGHT`;
#   default the whole mix), RDPDIAG_ARGS (extra probe options, e.g. "--concurrency 64"), OUT (a
#   directory; default a new temp dir), LAB_SECONDS (900), XRDP_FORK (true), XRDP (1; 0: the lab only),
#   RUN_NMAP (1), FROM_STDIN (1),
#   SKIP_BUILD=1 (use the binaries already in OUT/bin).
# The open-file limit is raised to the hard limit (thousands of listeners and connections).
# Needs: cargo, nmap, xrdp, openssl, python3, /usr/bin/time (apt package `time`). Run as root or not: as
#   root nmap's port scan is a SYN scan on lo, otherwise a connect scan; both stay on loopback.
# Every process the script starts is killed when it ends (trap), by its own PID.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${N:-64}"
LAB_SECONDS="${LAB_SECONDS:-900}"
XRDP_FORK="${XRDP_FORK:-true}"
RUN_NMAP="${RUN_NMAP:-1}"
FROM_STDIN="${FROM_STDIN:-1}"
XRDP="${XRDP:-1}"
NMAP_ARGS="${NMAP_ARGS:-}"
RDPDIAG_ARGS="${RDPDIAG_ARGS:-}"
LAB_MIX="${LAB_MIX:-}"
OUT="${OUT:-$(mktemp -d /tmp/probe-vs-nmap.XXXXXX)}"
mkdir -p "$OUT/bin"

if (( N < 1 || N > 60000 )); then echo "N must be 1..60000 (addresses from 127.0.0.2 on)" >&2; exit 2; fi
[[ "$XRDP_FORK" == true || "$XRDP_FORK" == false ]] || { echo "XRDP_FORK must be true or false" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# The address N+K after 127.0.0.2 (all of 127.0.0.0/8; never anything else).
addr_at() { # INDEX (0 = 127.0.0.2)
  local v=$(( (127 << 24) + 2 + $1 ))
  (( v < (128 << 24) )) || { echo "address out of 127.0.0.0/8" >&2; exit 2; }
  echo "$(( v >> 24 & 255 )).$(( v >> 16 & 255 )).$(( v >> 8 & 255 )).$(( v & 255 ))"
}
for tool in nmap xrdp openssl python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    # xrdp with fork=true: its children (one per connection still open), by their own PIDs.
    for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do kill "$c" 2>/dev/null || true; done
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  (cd "$here" && cargo build --release --quiet --bin rdpdiag --example rdp_lab)
  target="${CARGO_TARGET_DIR:-$here/target}"
  cp "$target/release/rdpdiag" "$target/release/examples/rdp_lab" "$OUT/bin/"
fi
commit="$(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet HEAD -- src examples || echo -dirty)"

# --- the lab ---------------------------------------------------------------------------------------
mix_args=()
[[ -n "$LAB_MIX" ]] && mix_args=(--mix "$LAB_MIX")
"$OUT/bin/rdp_lab" --count "$N" --first 127.0.0.2 --for "$LAB_SECONDS" "${mix_args[@]}" \
  >"$OUT/lab.txt" 2>"$OUT/lab.err" &
pids+=($!)

# --- xrdp ------------------------------------------------------------------------------------------
start_xrdp() { # NAME ADDRESS SECURITY_LAYER SSL_PROTOCOLS
  local name=$1 addr=$2 layer=$3 protos=$4 dir="$OUT/xrdp-$1"
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 30 \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
  awk -v port="tcp://$addr:3389" -v layer="$layer" -v protos="$protos" \
      -v cert="$dir/cert.pem" -v key="$dir/key.pem" -v fork="$XRDP_FORK" '
    /^\[/ { g = ($0 ~ /^\[Globals\]/) }
    g && /^fork=/            { print "fork=" fork; next }
    g && /^port=/            { print "port=" port; next }
    g && /^security_layer=/  { print "security_layer=" layer; next }
    g && /^certificate=/     { print "certificate=" cert; next }
    g && /^key_file=/        { print "key_file=" key; next }
    g && /^ssl_protocols=/   { print "ssl_protocols=" protos; next }
    { print }' /etc/xrdp/xrdp.ini >"$dir/xrdp.ini"
  xrdp -n -c "$dir/xrdp.ini" >"$dir/xrdp.log" 2>&1 &
  pids+=($!)
  echo "$addr:3389 xrdp-$name" >>"$OUT/xrdp.txt"
}
: >"$OUT/xrdp.txt"
if [[ "$XRDP" == 1 ]]; then
  start_xrdp negotiate "$(addr_at "$N")" negotiate "TLSv1.2, TLSv1.3"
  start_xrdp rdp "$(addr_at $((N + 1)))" rdp "TLSv1.2, TLSv1.3"
  start_xrdp tls13 "$(addr_at $((N + 2)))" negotiate "TLSv1.3"
fi

# --- wait until everything listens (bounded) -------------------------------------------------------
for _ in $(seq 600); do
  [[ $(wc -l <"$OUT/lab.txt") -ge $N ]] && break
  sleep 0.1
done
[[ $(wc -l <"$OUT/lab.txt") -ge $N ]] || { echo "the lab did not start: $(cat "$OUT/lab.err")" >&2; exit 1; }
# (awk reads all of ss's output: with pipefail, `grep -q` quitting early would fail the pipe on SIGPIPE)
listening() { ss -ltnH "( sport = :3389 )" | awk -v a="$1:3389" '$4 == a { f = 1 } END { exit !f }'; }
while read -r a _; do
  ip=${a%:*}
  for _ in $(seq 100); do listening "$ip" && break; sleep 0.1; done
  listening "$ip" || { echo "$a does not listen: $(cat "$OUT"/xrdp-*/xrdp.log)" >&2; exit 1; }
done <"$OUT/xrdp.txt"
cat "$OUT/lab.txt" "$OUT/xrdp.txt" >"$OUT/servers.txt"
awk '{sub(/:3389$/, "", $1); print $1}' "$OUT/servers.txt" >"$OUT/targets.txt"

# --- the two tools, one after the other ------------------------------------------------------------
set +e
# shellcheck disable=SC2086 # RDPDIAG_ARGS is a list of options
if [[ "$FROM_STDIN" == 1 ]]; then
  # The targets streamed on standard input, as `zmap ... -o - | rdpdiag probe --targets-file -` does.
  /usr/bin/time -v -o "$OUT/rdpdiag.time" "$OUT/bin/rdpdiag" probe --json $RDPDIAG_ARGS --targets-file - \
    <"$OUT/targets.txt" >"$OUT/rdpdiag.jsonl" 2>"$OUT/rdpdiag.err"
else
  /usr/bin/time -v -o "$OUT/rdpdiag.time" "$OUT/bin/rdpdiag" probe --json $RDPDIAG_ARGS --targets-file "$OUT/targets.txt" \
    >"$OUT/rdpdiag.jsonl" 2>"$OUT/rdpdiag.err"
fi
rdpdiag_rc=$?
nmap_rc=skipped
if [[ "$RUN_NMAP" == 1 ]]; then
  # shellcheck disable=SC2086 # NMAP_ARGS is a list of options
  /usr/bin/time -v -o "$OUT/nmap.time" nmap -d -Pn -n -p 3389 $NMAP_ARGS \
    --script rdp-enum-encryption,rdp-ntlm-info -oX "$OUT/nmap.xml" -iL "$OUT/targets.txt" \
    >"$OUT/nmap.log" 2>&1
  nmap_rc=$?
fi
set -e
echo "rdpdiag exit $rdpdiag_rc (1: problems found), nmap exit $nmap_rc" >"$OUT/exit.txt"

echo "xrdp fork=$XRDP_FORK; lab mix: ${LAB_MIX:-default}; nmap extra options: ${NMAP_ARGS:-none}" >"$OUT/setup.txt"
python3 "$here/benches/probe_vs_nmap_compare.py" "$OUT" "$commit" "$RDPDIAG_ARGS" | tee "$OUT/report.md"
echo "(files in $OUT)"
