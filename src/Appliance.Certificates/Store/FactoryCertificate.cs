using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Store;

/// <summary>
/// The factory certificate: self-signed (ECDSA P-256, ten years), made once on first start for the host name, never
/// the default and never deleted; it answers when no other certificate does. While the vault is closed TLS serves its
/// <see cref="FactoryStandIn"/> instead.
/// </summary>
internal sealed class FactoryCertificate(ICertificatePersistence persistence, VaultKeys keys, EntryCache entries, TimeProvider time)
{
    public const string FriendlyName = "Factory certificate";
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(3650);

    /// <summary>
    /// The stored factory certificate's id, and whether it was made now because there was none. With the vault closed
    /// nothing is stored (its key could not be sealed) and null is returned.
    /// </summary>
    public (string Id, bool Made)? Ensure(string hostName)
    {
        if (persistence.Read().Certificates.FirstOrDefault(c => c.IsFactory) is { } existing) return (existing.Id, false);
        if (!keys.Vault.IsOpen) return null;
        var now = time.GetUtcNow();
        var names = new List<string>();
        try
        {
            names.AddRange(CertificateRequestFactory.NormalizeSubjectAlternativeNames(new SubjectName(null, null, null, null, null, hostName), []));
        }
        catch (CertificateRequestException)
        {
            // A host name that is not a DNS name (e.g. "(none)") is left out of the SANs.
        }
        if (!names.Contains("localhost")) names.Add("localhost");
        var subject = new SubjectName(null, null, null, "B Series Appliance", null, hostName.Length is > 0 and <= 64 ? hostName : "appliance");
        using var key = KeyFactory.Generate("ecdsa-p256");
        var certificate = entries.Of(CertificateRequestFactory.CreateSelfSigned(subject, names, key, now.AddMinutes(-5), now + Lifetime));
        var id = StoreIds.Certificate(certificate.Data.Facts);
        persistence.Write(transaction =>
        {
            keys.AddIfNew(transaction, key);
            transaction.InsertCertificate(id, certificate, FriendlyName, CertificateSource.Factory);
        });
        return (id, true);
    }
}
