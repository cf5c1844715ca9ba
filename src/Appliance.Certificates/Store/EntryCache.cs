using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Appliance.Certificates.Store;

/// <summary>
/// The <see cref="CertificateEntry"/> of every certificate seen in this process, by SHA-256: rows are immutable, so a
/// certificate's DER is read into an entry at most once, whoever (persistence, import, issuance) met it first.
/// </summary>
internal sealed class EntryCache
{
    private readonly ConcurrentDictionary<string, CertificateEntry> _entries = new(StringComparer.Ordinal);

    public bool TryGet(string sha256, out CertificateEntry entry) => _entries.TryGetValue(sha256, out entry!);

    public CertificateEntry GetOrAdd(string sha256, CertificateEntry entry) => _entries.GetOrAdd(sha256, entry);

    public void Add(CertificateEntry entry) => _entries.TryAdd(entry.Sha256, entry);

    /// <summary>The entry of a certificate at hand: the stored one when it is stored, so its data is not read again.</summary>
    public CertificateEntry Of(X509Certificate2 certificate) =>
        _entries.TryGetValue(Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)), out var stored) ? stored : CertificateEntry.Parsed(certificate);
}
