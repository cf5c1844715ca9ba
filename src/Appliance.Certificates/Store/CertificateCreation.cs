using System.Security.Cryptography;
using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Store;

/// <summary>
/// Create: a certificate request (CSR) to take to a CA, or a self-signed certificate, each with a new key or the key
/// of a stored certificate (<see cref="KeyReference"/>). The friendly name must be free among certificates and requests.
/// </summary>
internal sealed class CertificateCreation(ICertificatePersistence persistence, VaultKeys keys, EntryCache entries, TimeProvider time)
{
    public static readonly TimeSpan SelfSignedLifetime = TimeSpan.FromDays(365);

    /// <summary>Creates what <paramref name="spec"/> asks; returns the new request's or certificate's id.</summary>
    public string Create(CreateCertificateSpec spec)
    {
        var friendlyName = FriendlyNames.Validate(spec.FriendlyName);
        CertificateRequestFactory.ValidateSubject(spec.Subject);
        var subjectAlternativeNames = CertificateRequestFactory.NormalizeSubjectAlternativeNames(spec.Subject, spec.SubjectAlternativeNames);
        var now = time.GetUtcNow();

        return persistence.Write(transaction =>
        {
            var view = transaction.View;
            if (view.Certificates.Any(c => string.Equals(c.FriendlyName, friendlyName, StringComparison.OrdinalIgnoreCase))
                || view.Requests.Any(r => string.Equals(r.FriendlyName, friendlyName, StringComparison.OrdinalIgnoreCase)))
                throw new CertificateStoreException(StoreFailure.Conflict, $"The friendly name '{friendlyName}' is already used; choose another one (for example the DNS name and the month and year).");

            using var key = ResolveKey(spec.Key, transaction);
            keys.AddIfNew(transaction, key);
            if (spec.SelfSigned)
            {
                var certificate = entries.Of(CertificateRequestFactory.CreateSelfSigned(spec.Subject, subjectAlternativeNames, key, now.AddMinutes(-5), now + SelfSignedLifetime));
                var certificateId = StoreIds.Certificate(certificate.Data.Facts);
                transaction.InsertCertificate(certificateId, certificate, friendlyName, CertificateSource.SelfSigned);
                return certificateId;
            }
            var requestId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            transaction.InsertRequest(new NewCertificateRequest(requestId, friendlyName, spec.Subject, subjectAlternativeNames,
                StoreIds.Key(CertificateFacts.PublicKeyHash(key.SubjectPublicKeyInfo)), CertificateRequestFactory.CreateRequest(spec.Subject, subjectAlternativeNames, key), now));
            return requestId;
        });
    }

    private PrivateKeyMaterial ResolveKey(string key, ICertificateTransaction transaction)
    {
        if (!KeyReference.IsExisting(key, out var certificateId)) return KeyFactory.Generate(key);
        if (certificateId.StartsWith('k'))
        {
            var sealedKey = transaction.SealedKey(certificateId)
                ?? throw new CertificateStoreException(StoreFailure.Invalid, $"There is no stored key with id '{certificateId}'; it may have been deleted with its request. Pick an existing key from the list or a new key type.");
            return keys.Open(certificateId, sealedKey);
        }
        var certificate = transaction.View.Find(certificateId)
            ?? throw new CertificateStoreException(StoreFailure.Invalid, $"There is no certificate with id '{certificateId}' whose key could be used; pick an existing key from the list or a new key type.");
        if (certificate.KeyId is null)
            throw new CertificateStoreException(StoreFailure.Invalid, $"The certificate '{certificate.FriendlyName}' has no private key on this appliance, so its key cannot be reused; choose a new key.");
        return keys.Open(certificate.KeyId, transaction.SealedKey(certificate.KeyId));
    }
}
