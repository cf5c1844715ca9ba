using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Store;

/// <summary>
/// Builds every stored certificate's chain in O(n) per view: issuers are looked up by subject name in a dictionary
/// instead of scanning the pool, and signature checks (the costly part) are remembered per (certificate, issuer)
/// pair for the life of the process: DER is immutable, so the answer never changes. Same rules as
/// <see cref="CertificateChainBuilder.Build"/>: prefer a self-signed issuer, then the latest notAfter; stop at a
/// self-signed certificate (complete when its own signature verifies), at <see cref="CertificateChainBuilder.MaxChainLength"/>
/// or when no issuer is stored (incomplete).
/// </summary>
internal sealed class ChainIndex
{
    private readonly ConcurrentDictionary<(string Child, string Issuer), bool> _signatures = new();
    private readonly ConcurrentDictionary<string, string> _nameKeys = new(StringComparer.Ordinal);

    public IReadOnlyList<(IReadOnlyList<int> Chain, bool Complete)> Build(IReadOnlyList<(X509Certificate2 Certificate, CertificateFacts Facts)> certificates)
    {
        var bySubject = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < certificates.Count; i++)
        {
            var key = NameKey(certificates[i].Certificate.SubjectName);
            if (!bySubject.TryGetValue(key, out var list)) bySubject[key] = list = [];
            list.Add(i);
        }
        var result = new (IReadOnlyList<int>, bool)[certificates.Count];
        for (var i = 0; i < certificates.Count; i++)
        {
            var chain = new List<int> { i };
            var current = i;
            var complete = false;
            while (true)
            {
                var (certificate, facts) = certificates[current];
                if (CertificateChainBuilder.IsSelfSigned(certificate))
                {
                    complete = Verified(certificates[current], certificates[current]);
                    break;
                }
                if (chain.Count >= CertificateChainBuilder.MaxChainLength) break;
                if (!bySubject.TryGetValue(NameKey(certificate.IssuerName), out var candidates)) break;
                var issuer = candidates
                    .Where(c => !chain.Contains(c) && Verified(certificates[current], certificates[c]))
                    .OrderByDescending(c => CertificateChainBuilder.IsSelfSigned(certificates[c].Certificate))
                    .ThenByDescending(c => certificates[c].Facts.NotAfter)
                    .Select(c => (int?)c)
                    .FirstOrDefault();
                if (issuer is null) break;
                chain.Add(issuer.Value);
                current = issuer.Value;
            }
            result[i] = (chain, complete);
        }
        return result;
    }

    private bool Verified((X509Certificate2 Certificate, CertificateFacts Facts) child, (X509Certificate2 Certificate, CertificateFacts Facts) issuer) =>
        _signatures.GetOrAdd((child.Facts.Sha256Fingerprint, issuer.Facts.Sha256Fingerprint),
            _ => CertificateChainBuilder.IsIssuedBy(child.Certificate, issuer.Certificate));

    /// <summary>A name key equal for equivalent names (case and spacing of values ignored, as X509Name.Equivalent does).</summary>
    private string NameKey(X500DistinguishedName name) =>
        _nameKeys.GetOrAdd(Convert.ToHexString(name.RawData), _ =>
        {
            try
            {
                var text = Org.BouncyCastle.Asn1.X509.X509Name.GetInstance(name.RawData).ToString(false, Org.BouncyCastle.Asn1.X509.X509Name.DefaultSymbols);
                return string.Join(' ', text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                return "raw:" + Convert.ToHexString(name.RawData);
            }
        });
}
