namespace Appliance.Certificates.Store;

/// <summary>
/// The one seam between the certificate store's rules and where its state lives (SQLite today,
/// <see cref="SqliteCertificatePersistence"/>; a replicated store later). The rules read a <see cref="StoreView"/> and
/// change state only inside <see cref="Write{T}"/>; an implementation must make each write atomic and serialised.
/// </summary>
internal interface ICertificatePersistence
{
    /// <summary>The state now, consistent in itself.</summary>
    StoreView Read();

    /// <summary>
    /// Runs <paramref name="change"/> in one transaction, serialised with every other write: all its changes are kept
    /// when it returns, none when it throws. <see cref="ICertificateTransaction.View"/> is the state at its start.
    /// </summary>
    T Write<T>(Func<ICertificateTransaction, T> change);

    /// <summary>A private key as the vault sealed it, or null when it is no longer stored.</summary>
    byte[]? SealedKey(string keyId);

    /// <summary>Every stored private key as the vault sealed it, by key id.</summary>
    IReadOnlyList<(string KeyId, byte[] Sealed)> SealedKeys();
}

/// <summary>The writes of one <see cref="ICertificatePersistence.Write{T}"/>; each takes effect only if the whole write does.</summary>
internal interface ICertificateTransaction
{
    /// <summary>The state when the transaction began (this transaction's own writes are not in it).</summary>
    StoreView View { get; }

    /// <summary>A private key as the vault sealed it, or null when it is not stored.</summary>
    byte[]? SealedKey(string keyId);

    IReadOnlyList<(string KeyId, byte[] Sealed)> SealedKeys();

    void InsertCertificate(string id, CertificateEntry entry, string friendlyName, CertificateSource source);

    void InsertKey(string keyId, string publicKeySha256, Formats.KeyAlgorithm algorithm, int keySize, byte[] sealedKey);

    void ReplaceSealedKey(string keyId, byte[] sealedKey);

    void InsertRequest(NewCertificateRequest request);

    /// <summary>Records that <paramref name="certificateId"/> is the certificate issued for the request.</summary>
    void CompleteRequest(string requestId, string certificateId);

    /// <summary>Deletes a certificate; requests it completed become pending again. Its key stays (see <see cref="DeleteKeyIfUnused"/>).</summary>
    void DeleteCertificate(string id);

    void DeleteRequest(string id);

    /// <summary>Deletes a key that no certificate (by public key) and no request refers to any more.</summary>
    void DeleteKeyIfUnused(string keyId);

    /// <summary>Sets, or with null clears, the default certificate.</summary>
    void SetDefault(string? certificateId);

    /// <summary>Assigns a certificate (or with null none) to a canonical address.</summary>
    void Assign(string address, string? certificateId);
}

/// <summary>A certificate request (CSR) to store: its subject, names, key and DER.</summary>
internal sealed record NewCertificateRequest(
    string Id, string FriendlyName, Formats.SubjectName Subject, IReadOnlyList<string> SubjectAlternativeNames, string KeyId, byte[] Der, DateTimeOffset CreatedAt);

internal static class CertificatePersistenceExtensions
{
    /// <summary><see cref="ICertificatePersistence.Write{T}"/> for a change that returns nothing.</summary>
    public static void Write(this ICertificatePersistence persistence, Action<ICertificateTransaction> change) =>
        persistence.Write(transaction =>
        {
            change(transaction);
            return true;
        });
}
