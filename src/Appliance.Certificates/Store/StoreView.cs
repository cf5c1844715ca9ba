namespace Appliance.Certificates.Store;

/// <summary>
/// The store's state at one moment, as a persistence reads it: the certificates with what is derived from the whole
/// store (key, chain, default, bound addresses), their entries (same order), the keys, the certificate requests and
/// the address assignments.
/// </summary>
internal sealed record StoreView(
    IReadOnlyList<StoredCertificate> Certificates,
    IReadOnlyList<CertificateEntry> Entries,
    IReadOnlyList<StoredKey> Keys,
    IReadOnlyDictionary<string, string> KeyPublicKeyHashes,
    IReadOnlyList<StoredRequest> Requests,
    IReadOnlyList<CertificateAssignment> Assignments)
{
    public StoredCertificate? Find(string id) => Certificates.FirstOrDefault(c => c.Id == id);

    public StoredCertificate Get(string id) => Find(id) ?? throw StoreErrors.CertificateNotFound(id);

    public StoredRequest GetRequest(string id) => Requests.FirstOrDefault(r => r.Id == id) ?? throw StoreErrors.RequestNotFound(id);

    public bool HasKey(string keyId) => Keys.Any(k => k.Id == keyId);
}
