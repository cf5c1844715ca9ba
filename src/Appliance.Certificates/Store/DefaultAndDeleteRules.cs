namespace Appliance.Certificates.Store;

/// <summary>
/// Which certificate may be the default (served when SNI is absent or matches nothing) and which may be deleted: the
/// factory certificate is neither; a self-signed or keyless one is never the default; one in use (default, assigned
/// to an address) is not deleted. A key goes with the last certificate or request that uses it.
/// </summary>
internal sealed class DefaultAndDeleteRules(ICertificatePersistence persistence)
{
    /// <summary>Why a certificate cannot be the default (the seed: never self-signed nor the factory certificate), or null.</summary>
    public static string? DefaultRefusal(StoredCertificate certificate) =>
        certificate.IsFactory ? $"'{certificate.FriendlyName}' is the factory certificate, which cannot be the default; import or request a CA-signed certificate."
        : KeyTypeServing.Refusal(certificate.FriendlyName, certificate.Facts.KeyAlgorithm) is { } keyType ? keyType
        : certificate.Facts.IsSelfSigned ? $"'{certificate.FriendlyName}' is self-signed, and a self-signed certificate cannot be the default; use a CA-signed certificate."
        : !certificate.HasPrivateKey ? $"'{certificate.FriendlyName}' has no private key on this appliance, so it cannot serve TLS; import its private key first."
        : null;

    /// <summary>Sets (or with null clears) the default certificate.</summary>
    public void SetDefault(string? id) => persistence.Write(transaction =>
    {
        if (id is not null && DefaultRefusal(transaction.View.Get(id)) is { } refusal)
            throw new CertificateStoreException(StoreFailure.Invalid, refusal);
        transaction.SetDefault(id);
    });

    public void Delete(string id) => persistence.Write(transaction =>
    {
        var certificate = transaction.View.Get(id);
        if (certificate.IsFactory)
            throw new CertificateStoreException(StoreFailure.InUse, $"'{certificate.FriendlyName}' is the factory certificate; it cannot be deleted because it answers when no other certificate does.");
        var uses = new List<string>();
        if (certificate.IsDefault) uses.Add("it is the default certificate (choose another default first)");
        if (certificate.BoundAddresses.Count > 0) uses.Add($"it is assigned to {string.Join(", ", certificate.BoundAddresses)} (assign another certificate there first)");
        if (uses.Count > 0)
            throw new CertificateStoreException(StoreFailure.InUse, $"'{certificate.FriendlyName}' is in use and was not deleted: {string.Join("; ", uses)}.");
        transaction.DeleteCertificate(id);
        if (certificate.KeyId is not null) transaction.DeleteKeyIfUnused(certificate.KeyId);
    });

    public void DeleteRequest(string id) => persistence.Write(transaction =>
    {
        var request = transaction.View.GetRequest(id);
        transaction.DeleteRequest(id);
        transaction.DeleteKeyIfUnused(request.KeyId);
    });
}
