using System.Security.Cryptography;
using System.Text;
using Appliance.Certificates.Vault;

namespace Appliance.Certificates.Store;

/// <summary>
/// The stored private keys across a vault change (software key to TPM): whether a vault opens them, and re-sealing all
/// of them under another vault in one write. All rows are always sealed under the same vault key.
/// </summary>
internal static class KeyReencryption
{
    /// <summary>Whether <paramref name="vault"/> opens the stored private keys (tried on one); null when no key is stored.</summary>
    public static bool? OpensStoredKeys(ICertificatePersistence persistence, IKeyVault vault)
    {
        var stored = persistence.SealedKeys();
        if (stored.Count == 0) return null;
        var (id, sealedKey) = stored[0];
        try
        {
            CryptographicOperations.ZeroMemory(vault.Open(sealedKey, Encoding.ASCII.GetBytes(id)));
            return true;
        }
        catch (VaultUnavailableException)
        {
            return false;
        }
    }

    /// <summary>
    /// Re-seals every stored private key from <paramref name="from"/> to <paramref name="to"/> in one write: afterwards
    /// either all rows open with <paramref name="to"/> or (on any failure) all still open with <paramref name="from"/>.
    /// Returns the number of keys re-sealed.
    /// </summary>
    public static int Reencrypt(ICertificatePersistence persistence, IKeyVault from, IKeyVault to) => persistence.Write(transaction =>
    {
        var rows = transaction.SealedKeys();
        foreach (var (id, sealedKey) in rows)
        {
            var associatedData = Encoding.ASCII.GetBytes(id);
            var pkcs8 = from.Open(sealedKey, associatedData);
            try
            {
                transaction.ReplaceSealedKey(id, to.Seal(pkcs8, associatedData));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pkcs8);
            }
        }
        return rows.Count;
    });
}
