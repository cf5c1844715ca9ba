using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;

namespace Appliance.Certificates.Formats;

/// <summary>Turns any private key the readers find into the one form the appliance keeps:
/// unencrypted PKCS#8 DER re-encoded by .NET, with the SPKI a certificate for that key carries.</summary>
internal static class KeyNormalizer
{
    internal const string Accepted = "the appliance accepts RSA keys of 2048 to 4096 bits and ECDSA keys on the curves P-256 and P-384";

    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";
    private const string P256Oid = "1.2.840.10045.3.1.7";
    private const string P384Oid = "1.3.132.0.34";

    // Descriptions for the refusal message; anything not listed is named by its OID.
    private static readonly Dictionary<string, string> OtherAlgorithms = new(StringComparer.Ordinal)
    {
        ["1.3.101.112"] = "an Ed25519 key",
        ["1.3.101.113"] = "an Ed448 key",
        ["1.3.101.110"] = "an X25519 key",
        ["1.3.101.111"] = "an X448 key",
        ["1.2.840.10040.4.1"] = "a DSA key",
        ["1.2.840.113549.1.3.1"] = "a Diffie-Hellman key",
        ["1.2.840.10046.2.1"] = "a Diffie-Hellman key",
        ["1.2.840.113549.1.1.10"] = "an RSASSA-PSS key",
        ["1.2.156.10197.1.301"] = "an SM2 key",
    };

    private static readonly Dictionary<string, string> OtherCurves = new(StringComparer.Ordinal)
    {
        ["1.3.132.0.35"] = "P-521",
        ["1.3.132.0.10"] = "secp256k1",
        ["1.2.840.10045.3.1.1"] = "P-192",
        ["1.3.132.0.33"] = "P-224",
        ["1.3.36.3.3.2.8.1.1.7"] = "brainpoolP256r1",
        ["1.3.36.3.3.2.8.1.1.11"] = "brainpoolP384r1",
        ["1.3.36.3.3.2.8.1.1.13"] = "brainpoolP512r1",
    };

    /// <summary>Checks and normalizes a PKCS#8 PrivateKeyInfo (RFC 5208 / RFC 5958).</summary>
    internal static PrivateKeyMaterial FromPkcs8(byte[] pkcs8, string fileName)
    {
        if (Asn1Guard.Check(pkcs8, out int length) != Asn1Guard.Verdict.Ok || length != pkcs8.Length)
        {
            throw ImportErrors.Damaged(fileName, "the private key is damaged");
        }

        PrivateKeyInfo info;
        try
        {
            info = PrivateKeyInfo.GetInstance(Asn1Object.FromByteArray(pkcs8));
        }
        catch (Exception e) when (e is not CertificateImportException)
        {
            throw ImportErrors.Damaged(fileName, "the private key is damaged");
        }

        string algorithm = info.PrivateKeyAlgorithm.Algorithm.Id;
        if (algorithm == RsaOid)
        {
            using var rsa = RSA.Create();
            ImportOrThrow(() => rsa.ImportPkcs8PrivateKey(pkcs8, out _), fileName);
            int bits = rsa.KeySize;
            if (bits < 2048)
            {
                throw new CertificateImportException(ImportFailureReason.KeyTooWeak, fileName,
                    $"{fileName}: the private key is an RSA key of {bits} bits, which is too weak; {Accepted}. Create a new key of at least 2048 bits and have the certificate issued again.");
            }

            if (bits > 4096)
            {
                throw Unsupported(fileName, $"an RSA key of {bits} bits");
            }

            return new PrivateKeyMaterial(rsa.ExportPkcs8PrivateKey(), KeyAlgorithm.Rsa, bits, rsa.ExportSubjectPublicKeyInfo());
        }

        if (algorithm == EcOid)
        {
            var parameters = info.PrivateKeyAlgorithm.Parameters;
            if (parameters is not DerObjectIdentifier curve)
            {
                // Explicit curve parameters (RFC 5480 2.1.1 forbids them in certificates) or none at all.
                throw Unsupported(fileName, "an EC key with explicit or missing curve parameters");
            }

            if (curve.Id != P256Oid && curve.Id != P384Oid)
            {
                throw Unsupported(fileName, $"an EC key on {CurveName(curve.Id)}");
            }

            using var ecdsa = ECDsa.Create();
            ImportOrThrow(() => ecdsa.ImportPkcs8PrivateKey(pkcs8, out _), fileName);
            return new PrivateKeyMaterial(ecdsa.ExportPkcs8PrivateKey(), KeyAlgorithm.Ecdsa, ecdsa.KeySize, ecdsa.ExportSubjectPublicKeyInfo());
        }

        throw Unsupported(fileName, OtherAlgorithms.TryGetValue(algorithm, out var other) ? other : $"a key of the algorithm {algorithm}");
    }

    /// <summary>A named curve as admins know it ("P-384"), or "the curve OID" for one not listed.</summary>
    internal static string CurveName(string oid) =>
        oid == P256Oid ? "P-256" : oid == P384Oid ? "P-384" : OtherCurves.TryGetValue(oid, out var n) ? n : $"the curve {oid}";

    /// <summary>A refusal for a key type the appliance does not serve TLS with.</summary>
    internal static CertificateImportException Unsupported(string fileName, string what) =>
        new(ImportFailureReason.UnsupportedKeyType, fileName,
            $"{fileName}: the private key is {what}, which is not supported; {Accepted}. Create a key of an accepted type and have the certificate issued for it.");

    private static void ImportOrThrow(Action import, string fileName)
    {
        try
        {
            import();
        }
        catch (CryptographicException)
        {
            throw ImportErrors.Damaged(fileName, "the private key is damaged or inconsistent");
        }
    }
}
