using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Appliance.Certificates.Formats;

/// <summary>New keys for certificate requests and self-signed certificates, and keys coming back from the vault.</summary>
public static class KeyFactory
{
    public static readonly IReadOnlyList<string> KeyTypes = ["rsa-2048", "rsa-3072", "rsa-4096", "ecdsa-p256", "ecdsa-p384"];

    /// <summary>A new key for "rsa-2048" ... "ecdsa-p384"; throws CertificateRequestException on an unknown type.</summary>
    /// <remarks>The type is matched case-insensitively.</remarks>
    public static PrivateKeyMaterial Generate(string keyType)
    {
        switch (keyType?.Trim().ToLowerInvariant())
        {
            case "rsa-2048":
            case "rsa-3072":
            case "rsa-4096":
            {
                using var rsa = RSA.Create(int.Parse(keyType.Trim()[4..], System.Globalization.CultureInfo.InvariantCulture));
                return KeyMaterial.From(rsa);
            }

            case "ecdsa-p256":
            {
                using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                return KeyMaterial.From(ecdsa);
            }

            case "ecdsa-p384":
            {
                using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP384);
                return KeyMaterial.From(ecdsa);
            }

            default:
                throw new CertificateRequestException($"The key type \"{SubjectAlternativeName.Shown(keyType ?? string.Empty)}\" is not known. Choose one of {string.Join(", ", KeyTypes)}.");
        }
    }

    /// <summary>
    /// A key back from the vault (checked when it was imported or made) around <paramref name="pkcs8"/> itself, which the
    /// result owns: disposing it zeroes the vault's plaintext, and no other copy is made. Read with the runtime's importers
    /// only, which keep the key in native memory cleared on dispose, not in managed copies that could not be zeroed.
    /// </summary>
    /// <exception cref="CryptographicException">The bytes are not a PKCS#8 RSA or EC key.</exception>
    public static PrivateKeyMaterial FromStoredPkcs8(byte[] pkcs8)
    {
        ArgumentNullException.ThrowIfNull(pkcs8);
        string algorithm;
        try
        {
            // PrivateKeyInfo ::= SEQUENCE { version INTEGER, privateKeyAlgorithm AlgorithmIdentifier, privateKey OCTET STRING, ... } (RFC 5208 section 5)
            ReadOnlySpan<byte> der = pkcs8;
            AsnDecoder.ReadSequence(der, AsnEncodingRules.DER, out var offset, out var length, out _);
            var info = der.Slice(offset, length);
            AsnDecoder.ReadEncodedValue(info, AsnEncodingRules.DER, out _, out _, out var version);
            AsnDecoder.ReadSequence(info[version..], AsnEncodingRules.DER, out offset, out length, out _);
            algorithm = AsnDecoder.ReadObjectIdentifier(info[version..].Slice(offset, length), AsnEncodingRules.DER, out _);
        }
        catch (AsnContentException e)
        {
            throw new CryptographicException("A stored private key is not PKCS#8; re-import the certificate with its key.", e);
        }
        using AsymmetricAlgorithm key = algorithm switch
        {
            RsaOid => RSA.Create(),
            EcOid => ECDsa.Create(),
            _ => throw new CryptographicException($"A stored private key has the algorithm {algorithm}, which the appliance does not serve; re-import the certificate with its key."),
        };
        key.ImportPkcs8PrivateKey(pkcs8, out _);
        return new PrivateKeyMaterial(pkcs8, key is RSA ? KeyAlgorithm.Rsa : KeyAlgorithm.Ecdsa, key.KeySize, key.ExportSubjectPublicKeyInfo());
    }

    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";

    /// <summary>Describes a PKCS#8 DER key (algorithm, size, SPKI) after the import's checks, in a new buffer.</summary>
    /// <remarks>Refuses what an import would refuse, with a <see cref="CertificateImportException"/> naming "stored key".</remarks>
    public static PrivateKeyMaterial FromPkcs8(byte[] pkcs8)
    {
        ArgumentNullException.ThrowIfNull(pkcs8);
        return KeyNormalizer.FromPkcs8(pkcs8, "stored key");
    }
}
