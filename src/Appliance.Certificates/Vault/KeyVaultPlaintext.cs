using System.Security.Cryptography;

namespace Appliance.Certificates.Vault;

/// <summary>Decrypt-and-use: the plaintext lives only while the callback runs and is zeroed when it returns or throws.</summary>
public static class KeyVaultPlaintext
{
    /// <summary>
    /// Opens <paramref name="sealedData"/> and hands the plaintext to <paramref name="use"/>, which must not keep the
    /// buffer (its result must hold its own copy, or none: a key object, a string the caller needs anyway).
    /// </summary>
    public static TResult OpenAndUse<TResult>(this IKeyVault vault, ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData, Func<byte[], TResult> use)
    {
        var plaintext = vault.Open(sealedData, associatedData);
        try
        {
            return use(plaintext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}
