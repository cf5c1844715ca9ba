using System.Security.Cryptography;
using System.Text;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Vault;

namespace Appliance.Certificates.Store;

/// <summary>
/// Private keys as the store keeps them: sealed by the vault with the key id as associated data (a sealed key moved to
/// another row does not open), opened into a <see cref="PrivateKeyMaterial"/> that zeroes its plaintext when disposed.
/// </summary>
internal sealed class VaultKeys(IKeyVault vault)
{
    public IKeyVault Vault => vault;

    /// <summary>Seals <paramref name="key"/> and adds it in <paramref name="transaction"/> unless that key is stored already.</summary>
    public void AddIfNew(ICertificateTransaction transaction, PrivateKeyMaterial key)
    {
        var hash = CertificateFacts.PublicKeyHash(key.SubjectPublicKeyInfo);
        var id = StoreIds.Key(hash);
        if (transaction.View.HasKey(id)) return;
        byte[] sealedKey;
        try
        {
            sealedKey = vault.Seal(key.Pkcs8, Encoding.ASCII.GetBytes(id));
        }
        catch (VaultUnavailableException e)
        {
            throw new CertificateStoreException(StoreFailure.KeyUnavailable, $"The private key was not stored: {e.Message}");
        }
        transaction.InsertKey(id, hash, key.Algorithm, key.KeySize, sealedKey);
    }

    /// <summary>Opens a stored key; the caller disposes it (which zeroes the plaintext).</summary>
    public PrivateKeyMaterial Open(string keyId, byte[]? sealedKey)
    {
        if (sealedKey is null) throw new CertificateStoreException(StoreFailure.NotFound, $"The private key '{keyId}' is no longer stored.");
        byte[] pkcs8;
        try
        {
            pkcs8 = vault.Open(sealedKey, Encoding.ASCII.GetBytes(keyId));
        }
        catch (VaultUnavailableException e)
        {
            throw new CertificateStoreException(StoreFailure.KeyUnavailable, e.Message);
        }
        try
        {
            return KeyFactory.FromStoredPkcs8(pkcs8); // owns the plaintext from here: disposing the key zeroes it
        }
        catch (CryptographicException e)
        {
            CryptographicOperations.ZeroMemory(pkcs8);
            throw new CertificateStoreException(StoreFailure.KeyUnavailable, e.Message);
        }
    }
}
