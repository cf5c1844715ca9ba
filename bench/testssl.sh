#!/usr/bin/env bash
# ./build.sh testssl: Debian's testssl.sh against the appliance's HTTPS listener, with a CA-issued certificate
# for a real name (site.test, on loopback) as an admin would import, and an OCSP responder for it.
# Prints every finding rated MEDIUM or worse; fails when one is rated HIGH or CRITICAL.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/out/testssl
APPLIANCE=$ROOT/out/appliance
PORT=${TESTSSL_PORT:-20443} HTTP_PORT=${TESTSSL_HTTP_PORT:-20080} OCSP_PORT=${TESTSSL_OCSP_PORT:-20888}
PASSWORD="testssl password 1"
rm -rf "$OUT"; mkdir -p "$OUT/pki"
cd "$OUT/pki"

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# A root CA, an OCSP signer under it, and the site's leaf (90 days, ECDSA P-256) naming the responder.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.crt -days 3650 \
  -subj "/O=testssl PKI/CN=testssl Root CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ocsp.key -out ocsp.csr -subj "/O=testssl PKI/CN=testssl OCSP" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\n' > ocsp.ext
openssl x509 -req -in ocsp.csr -CA root.crt -CAkey root.key -CAcreateserial -out ocsp.crt -days 365 -extfile ocsp.ext 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout site.key -out site.csr -subj "/O=Example/CN=site.test" 2>/dev/null
cat > site.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:site.test
authorityInfoAccess=OCSP;URI:http://127.0.0.1:$OCSP_PORT
crlDistributionPoints=URI:http://127.0.0.1:$OCSP_PORT/root.crl
EOF
openssl x509 -req -in site.csr -CA root.crt -CAkey root.key -CAcreateserial -out site.crt -days 90 -extfile site.ext 2>/dev/null
serial=$(openssl x509 -in site.crt -noout -serial | cut -d= -f2)
expiry=$(date -u -d "+90 days" +%y%m%d%H%M%SZ)
printf 'V\t%s\t\t%s\tunknown\t/O=Example/CN=site.test\n' "$expiry" "$serial" > index.txt
openssl ocsp -index index.txt -port "127.0.0.1:$OCSP_PORT" -rsigner ocsp.crt -rkey ocsp.key -CA root.crt -ignore_err >"$OUT/ocsp.log" 2>&1 &
PIDS+=($!)

APPLIANCE_ADMIN_PASSWORD=$PASSWORD "$APPLIANCE" serve --state-dir "$OUT/state" --bind 127.0.0.1 --https-port "$PORT" \
  --http-port "$HTTP_PORT" --key-protection software >"$OUT/appliance.log" 2>&1 &
PIDS+=($!)
api="https://127.0.0.1:$PORT/appliance/api/v1"
for _ in $(seq 100); do curl -ksf -o /dev/null "https://127.0.0.1:$PORT/" && break; sleep 0.1; done
curl -ksf -c "$OUT/cookies" -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "$api/session" >/dev/null
curl -ksf -b "$OUT/cookies" -F file=@site.crt -F file=@site.key -F file=@root.crt "$api/certificates/import" >/dev/null
sleep 3 # let a stapled OCSP response arrive, where the firmware staples

cd "$OUT"
testssl --quiet --color 0 --warnings off --add-ca "$OUT/pki/root.crt" --ip 127.0.0.1 --jsonfile-pretty "$OUT/testssl.json" \
  "https://site.test:$PORT" >"$OUT/testssl.txt" 2>&1 || true
/usr/bin/python3 - "$OUT/testssl.json" <<'EOF'
import json, sys
order = {"MEDIUM": 1, "HIGH": 2, "CRITICAL": 3}
report = json.load(open(sys.argv[1]))
worst = 0
for section in report.get("scanResult", []):
    for name, findings in section.items():
        if not isinstance(findings, list):
            continue
        for f in findings:
            level = order.get(f.get("severity", ""), 0)
            if level:
                print(f"{f['severity']:8} {f['id']}: {f['finding']}")
                worst = max(worst, level)
print("testssl.sh: nothing rated HIGH or CRITICAL" if worst < 2 else "testssl.sh: findings rated HIGH or CRITICAL above")
sys.exit(1 if worst >= 2 else 0)
EOF
