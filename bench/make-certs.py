#!/usr/bin/python3
"""Makes the benchmark's certificates: a P-256 CA and N leaves h00000.example.test ... sharing one key, ECDSA P-256
or RSA-2048 (the handshake cost is the same; one key keeps generation fast), as PEM files for nginx and bundles of 100
for the appliance's import API. Usage: make-certs.py OUT_DIR N [ec|rsa]"""
import datetime, os, sys
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

out, count = sys.argv[1], int(sys.argv[2])
key_type = sys.argv[3] if len(sys.argv) > 3 else "ec"
os.makedirs(os.path.join(out, "certs"), exist_ok=True)
now = datetime.datetime.now(datetime.timezone.utc)
ca_key = ec.generate_private_key(ec.SECP256R1())
ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench CA")])
ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
      .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
      .not_valid_after(now + datetime.timedelta(days=3650))
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
      .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
      .sign(ca_key, hashes.SHA256()))
leaf_key = rsa.generate_private_key(65537, 2048) if key_type == "rsa" else ec.generate_private_key(ec.SECP256R1())
key_pem = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
ca_pem = ca.public_bytes(serialization.Encoding.PEM)
open(os.path.join(out, "ca.crt"), "wb").write(ca_pem)
open(os.path.join(out, "leaf.key"), "wb").write(key_pem)
bundle, bundles = [], 0
for i in range(count):
    name = "h%05d.example.test" % i
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    open(os.path.join(out, "certs", name + ".crt"), "wb").write(pem + ca_pem)
    bundle.append(pem)
    if len(bundle) == 100 or i == count - 1:
        open(os.path.join(out, "bundle-%03d.pem" % bundles), "wb").write(b"".join(bundle) + key_pem)
        bundle, bundles = [], bundles + 1
