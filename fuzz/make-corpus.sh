#!/usr/bin/env bash
# Regenerates the seed corpus under fuzz/corpus/TARGET/ (committed; run again only to change it).
# Certificates and keys come from openssl, encrypted with the password "fuzz" (CertificateFileTarget.Password) and
# few iterations, so that afl-fuzz's mutations reach the decrypted contents quickly. TPM responses are the byte
# vectors of tests/Appliance.Tpm.Tests; DNS answers are laid out as tests/Appliance.Acme.Tests' DnsResponder does.
set -euo pipefail
cd "$(dirname "$0")"
CORPUS=$PWD/corpus FIXTURES=$PWD/Appliance.Fuzz/Fixtures
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
rm -rf "$CORPUS"; mkdir -p "$CORPUS"/{certificate-file,asn1-guard,dns-message,tpm-response,acme-json,ocsp-response,server-name}
C=$CORPUS/certificate-file A=$CORPUS/asn1-guard
ossl() { openssl "$@" 2>/dev/null; }

# A CA and a leaf (EC P-256 and RSA 2048), valid for ten years.
ossl ecparam -name prime256v1 -genkey -noout -out ca.key
ossl req -x509 -new -key ca.key -subj /CN=Fuzz-CA -days 3650 -out ca.pem
ossl ecparam -name prime256v1 -genkey -noout -out ec.key
ossl req -new -key ec.key -subj /CN=fuzz.example -addext subjectAltName=DNS:fuzz.example,DNS:*.fuzz.example,IP:127.0.0.1 -out ec.csr
ossl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -copy_extensions copy -out ec.pem
ossl genrsa -out rsa.key 2048
ossl req -x509 -new -key rsa.key -subj /CN=rsa.fuzz.example -days 3650 -out rsa.pem

cp ec.pem "$C/ec.crt.pem"; cat ec.pem ca.pem > "$C/chain.pem"
ossl x509 -in ec.pem -outform DER -out "$C/ec.crt.der"
base64 -w0 "$C/ec.crt.der" > "$C/ec.crt.b64"
cp ec.key "$C/ec.sec1.pem"; cp ec.csr "$C/ec.csr.pem"
ossl ec -in ec.key -outform DER -out "$C/ec.sec1.der"
ossl pkcs8 -topk8 -nocrypt -in ec.key -out "$C/ec.pk8.pem"
ossl pkcs8 -topk8 -nocrypt -in ec.key -outform DER -out "$C/ec.pk8.der"
ossl pkcs8 -topk8 -v2 aes-128-cbc -iter 1 -in ec.key -passout pass:fuzz -outform DER -out "$C/ec.pk8-pbes2.der"
ossl pkcs8 -topk8 -v1 PBE-SHA1-3DES -iter 1 -in ec.key -passout pass:fuzz -out "$C/ec.pk8-pbe.pem"
ossl ec -in ec.key -aes128 -passout pass:fuzz -out "$C/ec.legacy-enc.pem"
ossl rsa -in rsa.key -traditional -out "$C/rsa.pkcs1.pem"
ossl rsa -in rsa.key -traditional -outform DER -out "$C/rsa.pkcs1.der"
ossl rsa -in rsa.key -traditional -des3 -passout pass:fuzz -out "$C/rsa.legacy-enc.pem"
ossl crl2pkcs7 -nocrl -certfile "$C/chain.pem" -out "$C/chain.p7b.pem"
ossl crl2pkcs7 -nocrl -certfile "$C/chain.pem" -outform DER -out "$C/chain.p7b.der"
# Interop classes (issue 11): a key after its EC PARAMETERS block, as `openssl ecparam -genkey` writes it; an Ed25519 certificate.
ossl ecparam -name secp384r1 -genkey -out "$C/ec.params-and-key.pem"
ossl genpkey -algorithm ed25519 -out ed.key
ossl req -x509 -new -key ed.key -subj /CN=ed.fuzz.example -days 3650 -out "$C/ed25519.crt.pem"
ossl pkcs12 -export -in ec.pem -inkey ec.key -certfile ca.pem -passout pass:fuzz -iter 1 -out "$C/ec.p12"
ossl pkcs12 -export -in ec.pem -inkey ec.key -passout pass:fuzz -iter 1 -certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1 -out "$C/ec.3des.p12"
ossl pkcs12 -export -in ec.pem -inkey ec.key -passout pass:fuzz -iter 1 -keypbe NONE -certpbe NONE -nomac -out "$C/ec.plain.p12"
ossl pkcs12 -export -in rsa.pem -inkey rsa.key -passout pass:fuzz -iter 1 -out "$C/rsa.p12"
for f in ec.crt.der ec.sec1.der ec.pk8.der ec.pk8-pbes2.der chain.p7b.der ec.p12 ec.3des.p12 ec.plain.p12; do cp "$C/$f" "$A/$f"; done
ossl req -in ec.csr -outform DER -out "$A/ec.csr.der"

# OCSP: the fuzz target's fixed issuer and leaf, and responses for the leaf (good, revoked, by a delegated responder).
mkdir -p "$FIXTURES"
cp ca.pem "$FIXTURES/ocsp-issuer.pem"; cp ec.pem "$FIXTURES/ocsp-leaf.pem"
ossl ecparam -name prime256v1 -genkey -noout -out responder.key
ossl req -new -key responder.key -subj /CN=Fuzz-OCSP -out responder.csr
printf 'extendedKeyUsage=OCSPSigning\n' > responder.ext
ossl x509 -req -in responder.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile responder.ext -out responder.pem
serial=$(openssl x509 -in ec.pem -noout -serial | cut -d= -f2)
printf 'V\t351231000000Z\t\t%s\tunknown\t/CN=fuzz.example\n' "$serial" > good.txt
printf 'R\t351231000000Z\t261201000000Z,keyCompromise\t%s\tunknown\t/CN=fuzz.example\n' "$serial" > revoked.txt
ossl ocsp -issuer ca.pem -cert ec.pem -no_nonce -reqout req.der
O=$CORPUS/ocsp-response
ossl ocsp -index good.txt -rsigner ca.pem -rkey ca.key -CA ca.pem -reqin req.der -ndays 3650 -respout "$O/good.der"
ossl ocsp -index revoked.txt -rsigner ca.pem -rkey ca.key -CA ca.pem -reqin req.der -ndays 3650 -respout "$O/revoked.der"
ossl ocsp -index good.txt -rsigner responder.pem -rkey responder.key -CA ca.pem -reqin req.der -ndays 3650 -respout "$O/delegated.der"
ossl ocsp -index good.txt -rsigner ca.pem -rkey ca.key -CA ca.pem -reqin req.der -ndays 3650 -resp_no_certs -respout "$O/no-certs.der"
printf '\x30\x03\x0a\x01\x01' > "$O/malformed-request.der"

python3 - "$CORPUS" <<'PY'
import struct, sys, os
corpus = sys.argv[1]
def put(target, name, data):
    with open(os.path.join(corpus, target, name), "wb") as f: f.write(data)

# DNS (RFC 1035 4.1): header, the question, answers with names compressed to the question (0xC00C).
def name(n): return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"
def header(ancount, flags=0x8580): return struct.pack(">HHHHHH", 0x1234, flags, 1, ancount, 0, 0)
def question(n, t): return name(n) + struct.pack(">HH", t, 1)
def rr(owner, t, data): return owner + struct.pack(">HHIH", t, 1, 60, len(data)) + data
def caa(flags, tag, value): return bytes([flags, len(tag)]) + tag.encode() + value.encode()
q = question("fuzz.example", 257)
put("dns-message", "caa-issue", header(2) + q + rr(b"\xc0\x0c", 257, caa(0, "issue", "ca.example; account=1")) + rr(b"\xc0\x0c", 257, caa(128, "tbs", "x")))
put("dns-message", "caa-issuewild", header(2) + q + rr(b"\xc0\x0c", 257, caa(0, "issuewild", ";")) + rr(b"\xc0\x0c", 257, caa(0, "iodef", "mailto:a@fuzz.example")))
put("dns-message", "cname", header(2) + q + rr(b"\xc0\x0c", 5, name("alias.fuzz.example")) + rr(name("alias.fuzz.example"), 257, caa(0, "issue", "ca.example")))
put("dns-message", "a-record", header(1) + question("fuzz.example", 1) + rr(b"\xc0\x0c", 1, bytes([127, 0, 0, 1])))
put("dns-message", "nxdomain", header(0, 0x8583) + q)
put("dns-message", "truncated", header(0, 0x8780) + q)

# TPM: one selector byte (TpmResponseTarget's parser order), then a response recorded from swtpm.
auth = bytes.fromhex("0000010000")  # empty nonce, continueSession, empty HMAC
def sessions(handles, params): body = handles + struct.pack(">I", len(params)) + params + auth; return struct.pack(">HII", 0x8002, 10 + len(body), 0) + body
primary_public = bytes.fromhex("005A0023000B0003007200000006008000430010000300100020E8846F23268073624C185D38538AFD283199D02CDFB8B28CFD1F80EDDF720E1100205ECDB550E1113834071EB63D91CFCAAF3A31C96E2AD551B11198ABD5CA3938E0")
create_primary = bytes.fromhex("80020000013A000000008000000000000123005A0023000B0003007200000006008000430010000300100020880E4C89673037B3D1A87949FE4136AFBDC2CC5851599F326E7D8713ACFF658F00203F957DD7E518B7FC5217342F093012662ABF6ABD68D999CFA1EDFF22E34ECA5F0037000000000020E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855010010000440000001000440000001000000205DA041BAC0EE3135AEBB0CADFBA497C6A1877FAE832DD3D1F8F7A871B825E854802140000001004083CFAA6ABAAE988E2B83799DCFEEBC7C4D0362A3DCBB79B74BD684A5B7C035E65970F365A2C81C8973B34B2D34BC4475BD461811F7BAAC49FB82985297F8537C0022000B61DA67DAEECDC4FFD906B1CDB6466BAF8349A2493922A2D04CA174BC20FB4B2B0000010000")
def b2(data): return struct.pack(">H", len(data)) + data
ticket = struct.pack(">HI", 0x8021, 0x40000001) + b2(bytes(32))
vectors = {
    0: ["80010000000A00000000", "80010000000A00000100"],
    1: ["80010000007B0000000001000000060000000D00000100322E3000000001010000000000000102000000A4000001030000004B00000104000007E50000010549424D000000010653572020000001072054504D000001080000000000000109000000000000010A000000010000010B201910230000010C00163636"],
    2: ["80010000001400000000000845AE085635A0B808"],
    3: [create_primary.hex()],
    4: [sessions(b"", b2(bytes(64)) + primary_public + b2(bytes(16)) + b2(bytes(32)) + ticket).hex()],
    5: [sessions(struct.pack(">I", 0x80000001), b2(bytes.fromhex("000B") + bytes(32))).hex()],
    6: [sessions(b"", b2(bytes(32))).hex()],
    7: ["80010000000A00000000"],
    8: ["80010000003000000000030000000020D7607FCEC36FB746657EE42BFC06A9F2786FD382EDC8FE3E0A738CA0236217F1"],
    9: ["80010000000A00000000"],
    10: ["80010000002C000000000020599A9CCA81C171E404E4AFC462E7415EE799C498B00FF6EDB68D07DE1DC47A20"],
    11: ["800100000060000000000000001400000001000B03000081000000020020000000000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000000"],
    12: ["80020000001300000000000000000000010000"],
    13: [primary_public.hex()],
}
for selector, hexes in vectors.items():
    for i, h in enumerate(hexes): put("tpm-response", f"{selector:02d}-{i}", bytes([selector]) + bytes.fromhex(h))

# ACME (RFC 8555 7.1): the documents pebble sends.
docs = {
    "directory": '{"keyChange":"https://127.0.0.1:14000/rollover-account-key","meta":{"externalAccountRequired":false,"termsOfService":"data:text/plain,Do%20what%20thou%20wilt","profiles":{"default":"The profile you know","shortlived":"A short-lived cert profile"},"caaIdentities":["pebble.letsencrypt.org"]},"newAccount":"https://127.0.0.1:14000/sign-me-up","newNonce":"https://127.0.0.1:14000/nonce-plz","newOrder":"https://127.0.0.1:14000/order-plz","renewalInfo":"https://127.0.0.1:14000/draft-ietf-acme-ari-03/renewalInfo","revokeCert":"https://127.0.0.1:14000/revoke-cert"}',
    "account": '{"status":"valid","contact":["mailto:admin@fuzz.example"],"orders":"https://127.0.0.1:14000/list-orderz/1"}',
    "order": '{"status":"pending","expires":"2026-12-08T07:00:00Z","identifiers":[{"type":"dns","value":"fuzz.example"},{"type":"ip","value":"127.0.0.1"}],"profile":"default","finalize":"https://127.0.0.1:14000/finalize-order/x","authorizations":["https://127.0.0.1:14000/authZ/a"]}',
    "order-invalid": '{"status":"invalid","identifiers":[{"type":"dns","value":"fuzz.example"}],"authorizations":[],"finalize":"f","certificate":"https://127.0.0.1:14000/certZ/1","error":{"type":"urn:ietf:params:acme:error:caa","detail":"CAA forbids","status":403}}',
    "authorization": '{"status":"pending","identifier":{"type":"dns","value":"fuzz.example"},"challenges":[{"type":"http-01","url":"https://127.0.0.1:14000/chalZ/1","token":"tok_1","status":"pending"},{"type":"dns-01","url":"https://127.0.0.1:14000/chalZ/2","token":"tok_2","status":"pending"}],"expires":"2026-12-08T07:00:00Z","wildcard":false}',
    "challenge": '{"type":"http-01","url":"https://127.0.0.1:14000/chalZ/1","token":"tok_1","status":"invalid","validated":"2026-12-07T07:00:00Z","error":{"type":"urn:ietf:params:acme:error:connection","detail":"refused","status":400}}',
    "problem": '{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"Error creating new order","status":400,"subproblems":[{"type":"urn:ietf:params:acme:error:malformed","detail":"bad name","identifier":{"type":"dns","value":"-x.example"}}]}',
    "renewal-info": '{"suggestedWindow":{"start":"2027-01-01T00:00:00Z","end":"2027-01-03T00:00:00Z"},"explanationURL":"https://ca.example/why"}',
}
for n, d in docs.items(): put("acme-json", n, d.encode())
PY
# ClientHello server_name extension bodies (RFC 6066 section 3): one well-formed entry and the shapes libssl refuses.
CORPUS=$CORPUS /usr/bin/python3 - <<'PY'
import os, struct
def ext(*entries):
    body = b"".join(bytes([t]) + struct.pack(">H", len(n)) + n for t, n in entries)
    return struct.pack(">H", len(body)) + body
for name, data in {"one-name": ext((0, b"www.example.test")), "two-names": ext((0, b"a.test"), (0, b"b.test")),
                   "other-type": ext((1, b"www.example.test")), "idn": ext((0, "bücher.example".encode())),
                   "nul": ext((0, b"evil.test\x00good.test")), "empty-list": ext()}.items():
    open(os.path.join(os.environ["CORPUS"], "server-name", name), "wb").write(data)
PY
du -sh "$CORPUS"; for d in "$CORPUS"/*; do echo "$(basename "$d"): $(ls "$d" | wc -l) files"; done
