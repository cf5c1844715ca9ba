using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Store;

/// <summary>
/// Certificates an ACME server issued for a key made here (automated certificates): the leaf, its chain and the key
/// are stored in one write. A renewal takes over the default setting and the address assignments of the certificate
/// it replaces, and deletes it when that one was issued the same way too (the appliance made it, so the admin does not keep it).
/// </summary>
internal sealed class IssuedCertificates(ICertificatePersistence persistence, VaultKeys keys, EntryCache entries)
{
    /// <summary>Stores <paramref name="chainPem"/> (PEM, leaf first) with <paramref name="key"/>; returns the leaf's id.</summary>
    public string Store(string chainPem, PrivateKeyMaterial key, string friendlyName, string? replacesCertificateId)
    {
        ArgumentNullException.ThrowIfNull(key);
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(chainPem);
        }
        catch (CryptographicException e)
        {
            throw new CertificateStoreException(StoreFailure.Invalid, $"The issued certificate chain is not valid PEM ({e.Message}); nothing was stored.");
        }
        if (chain.Count == 0)
            throw new CertificateStoreException(StoreFailure.Invalid, "The issued certificate chain holds no certificate; nothing was stored.");
        var leafFacts = entries.Of(chain[0]).Data.Facts;
        if (leafFacts.PublicKeySha256 != CertificateFacts.PublicKeyHash(key.SubjectPublicKeyInfo))
            throw new CertificateStoreException(StoreFailure.Invalid, $"The issued certificate '{leafFacts.CommonName ?? leafFacts.Subject}' does not carry the key it was requested for; nothing was stored.");
        var leafId = StoreIds.Certificate(leafFacts);

        persistence.Write(transaction =>
        {
            var view = transaction.View;
            var old = replacesCertificateId is null || replacesCertificateId == leafId ? null : view.Find(replacesCertificateId);
            var deleteOld = old is not null && old.Source == CertificateSource.Acme && !old.IsFactory;
            // The renewed certificate takes over the friendly name of the one it deletes.
            var names = view.Certificates.Where(c => !(deleteOld && c.Id == old!.Id)).ToList();
            for (var i = 0; i < chain.Count; i++)
            {
                var entry = entries.Of(chain[i]);
                var facts = entry.Data.Facts;
                var id = StoreIds.Certificate(facts);
                if (view.Find(id) is not null) continue;
                var name = FriendlyNames.Unique(i == 0 ? FriendlyNames.Validate(friendlyName) : FriendlyNames.Default(facts), names);
                transaction.InsertCertificate(id, entry, name, CertificateSource.Acme);
                names.Add(new StoredCertificate(id, name, facts, entry.Der, entry.Certificate, null, false, false, [], false, [], CertificateSource.Acme));
            }
            keys.AddIfNew(transaction, key);

            if (old is null) return;
            if (old.IsDefault) transaction.SetDefault(leafId);
            foreach (var address in old.BoundAddresses) transaction.Assign(address, leafId);
            if (!deleteOld) return;
            transaction.DeleteCertificate(old.Id);
            if (old.KeyId is not null) transaction.DeleteKeyIfUnused(old.KeyId);
        });
        return leafId;
    }
}
