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

    /// <summary>Describes a PKCS#8 DER key (algorithm, size, SPKI); used when keys come back from the vault.</summary>
    /// <remarks>Refuses what an import would refuse, with a <see cref="CertificateImportException"/> naming "stored key".</remarks>
    public static PrivateKeyMaterial FromPkcs8(byte[] pkcs8)
    {
        ArgumentNullException.ThrowIfNull(pkcs8);
        return KeyNormalizer.FromPkcs8(pkcs8, "stored key");
    }
}
