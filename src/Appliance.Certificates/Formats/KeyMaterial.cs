using System.Security.Cryptography;

namespace Appliance.Certificates.Formats;

/// <summary>Opens a <see cref="PrivateKeyMaterial"/> as a .NET key object; the caller disposes it.</summary>
internal static class KeyMaterial
{
    internal static AsymmetricAlgorithm Open(PrivateKeyMaterial key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Algorithm == KeyAlgorithm.Rsa)
        {
            var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(key.Pkcs8, out _);
            return rsa;
        }

        var ecdsa = ECDsa.Create();
        ecdsa.ImportPkcs8PrivateKey(key.Pkcs8, out _);
        return ecdsa;
    }

    internal static PrivateKeyMaterial From(RSA rsa) =>
        new(rsa.ExportPkcs8PrivateKey(), KeyAlgorithm.Rsa, rsa.KeySize, rsa.ExportSubjectPublicKeyInfo());

    internal static PrivateKeyMaterial From(ECDsa ecdsa) =>
        new(ecdsa.ExportPkcs8PrivateKey(), KeyAlgorithm.Ecdsa, ecdsa.KeySize, ecdsa.ExportSubjectPublicKeyInfo());
}
