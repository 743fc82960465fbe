#!/usr/bin/env bash
# probe_vs_nmap.sh — issue 5's comparison: `rdpdiag probe` against nmap's rdp-enum-encryption and
# rdp-ntlm-info scripts, on the same loopback servers, for speed and for correctness.
#
# What it does (everything on 127.0.0.0/8; nothing else is ever contacted):
#   1. builds rdpdiag and examples/rdp_lab.rs (release) and copies both binaries aside (the target
#      directory may be shared);
#   2. starts the lab: N scripted servers (default 64) on 127.0.0.2 .. 127.0.0.(N+1), port 3389, each with
#      one behaviour of the mix (RDP_NEG failure codes 1-7, SSL selected whatever was offered with a real
#      TLS handshake, standard RDP selected, SSL then a hang-up after the ClientHello, RST after the
#      request, silence); the lab stops by itself after LAB_SECONDS;
#   3. starts three real xrdp servers on the next three addresses (as tests/probe_xrdp.rs does:
#      `xrdp -n -c FILE`, fork=false, a valid openssl certificate): security_layer=negotiate with TLS 1.2
#      and 1.3, security_layer=rdp, and security_layer=negotiate with TLS 1.3 only;
#   4. waits until every address listens, then runs, one after the other (never at once: the machine is
#      small), each under `/usr/bin/time -v`:
#        (a) rdpdiag probe --json  $RDPDIAG_ARGS  ADDRESSES…
#        (b) nmap -d -Pn -n -p 3389 --script rdp-enum-encryption,rdp-ntlm-info -oX FILE  ADDRESSES…
#      (`-d` makes rdp-enum-encryption print the RDP_NEG failure codes; without it they are not shown);
#   5. compares the answers per address with each other and with what each server really is (the lab's
#      behaviour, the xrdp configuration): supported security protocols, NLA, RDP_NEG failure codes, TLS
#      versions. Prints the timing table and the correctness comparison, and writes both to OUT/report.md.
#
# Environment: N (64), LAB_MIX (comma-separated behaviour names, default the whole mix),
#   RDPDIAG_ARGS (extra probe options, e.g. "--timeout 1"), OUT (a directory; default a new temp dir),
#   LAB_SECONDS (600), SKIP_BUILD=1 (use the binaries already in OUT/bin).
# Needs: cargo, nmap, xrdp, openssl, python3, /usr/bin/time (apt package `time`). Run as root or not: as
#   root nmap's port scan is a SYN scan on lo, otherwise a connect scan; both stay on loopback.
# Every process the script starts is killed when it ends (trap), by its own PID.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${N:-64}"
LAB_SECONDS="${LAB_SECONDS:-600}"
RDPDIAG_ARGS="${RDPDIAG_ARGS:-}"
LAB_MIX="${LAB_MIX:-}"
OUT="${OUT:-$(mktemp -d /tmp/probe-vs-nmap.XXXXXX)}"
mkdir -p "$OUT/bin"

if (( N < 1 || N > 200 )); then echo "N must be 1..200 (addresses 127.0.0.2..)" >&2; exit 2; fi
for tool in nmap xrdp openssl python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
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
      -v cert="$dir/cert.pem" -v key="$dir/key.pem" '
    /^\[/ { g = ($0 ~ /^\[Globals\]/) }
    g && /^fork=/            { print "fork=false"; next }
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
base=$((N + 2))
start_xrdp negotiate "127.0.0.$base" negotiate "TLSv1.2, TLSv1.3"
start_xrdp rdp "127.0.0.$((base + 1))" rdp "TLSv1.2, TLSv1.3"
start_xrdp tls13 "127.0.0.$((base + 2))" negotiate "TLSv1.3"

# --- wait until everything listens (bounded) -------------------------------------------------------
for _ in $(seq 100); do
  [[ $(wc -l <"$OUT/lab.txt") -ge $N ]] && break
  sleep 0.1
done
[[ $(wc -l <"$OUT/lab.txt") -ge $N ]] || { echo "the lab did not start: $(cat "$OUT/lab.err")" >&2; exit 1; }
listening() { ss -ltnH "( sport = :3389 )" | awk '{print $4}' | grep -qx "$1:3389"; }
while read -r a _; do
  ip=${a%:*}
  for _ in $(seq 100); do listening "$ip" && break; sleep 0.1; done
  listening "$ip" || { echo "$a does not listen: $(cat "$OUT"/xrdp-*/xrdp.log)" >&2; exit 1; }
done <"$OUT/xrdp.txt"
cat "$OUT/lab.txt" "$OUT/xrdp.txt" >"$OUT/servers.txt"
mapfile -t targets < <(awk '{sub(/:3389$/, "", $1); print $1}' "$OUT/servers.txt")

# --- the two tools, one after the other ------------------------------------------------------------
set +e
# shellcheck disable=SC2086 # RDPDIAG_ARGS is a list of options
/usr/bin/time -v -o "$OUT/rdpdiag.time" "$OUT/bin/rdpdiag" probe --json $RDPDIAG_ARGS "${targets[@]}" \
  >"$OUT/rdpdiag.jsonl" 2>"$OUT/rdpdiag.err"
rdpdiag_rc=$?
/usr/bin/time -v -o "$OUT/nmap.time" nmap -d -Pn -n -p 3389 \
  --script rdp-enum-encryption,rdp-ntlm-info -oX "$OUT/nmap.xml" "${targets[@]}" \
  >"$OUT/nmap.log" 2>&1
nmap_rc=$?
set -e
echo "rdpdiag exit $rdpdiag_rc (1: problems found), nmap exit $nmap_rc" >"$OUT/exit.txt"

python3 "$here/benches/probe_vs_nmap_compare.py" "$OUT" "$commit" "$RDPDIAG_ARGS" | tee "$OUT/report.md"
echo "(files in $OUT)"
