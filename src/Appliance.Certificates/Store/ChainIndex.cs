using System.Collections.Concurrent;
using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Store;

/// <summary>
/// Builds every stored certificate's chain in O(n) per view from the stored names alone: issuers are looked up by
/// subject name key in a dictionary, and a signature is checked (the costly part, which parses both certificates)
/// only for a (certificate, issuer) pair never checked before. Verdicts are kept for the life of the process and in
/// the database (<c>signature_checks</c>): DER is immutable, so the answer never changes. Same rules as
/// <see cref="CertificateChainBuilder.Build"/>: prefer a self-signed issuer, then the latest notAfter; stop at a
/// self-signed certificate (complete when its own signature verifies), at <see cref="CertificateChainBuilder.MaxChainLength"/>
/// or when no issuer is stored (incomplete).
/// </summary>
internal sealed class ChainIndex
{
    private readonly ConcurrentDictionary<(string Certificate, string Issuer), bool> _verdicts = new();
    private readonly ConcurrentDictionary<(string Certificate, string Issuer), bool> _unsaved = new();

    /// <summary>A verdict read from the database, trusted as written: the table is the store's own state, like the rest of it.</summary>
    public void Remember(string certificateSha256, string issuerSha256, bool issued) =>
        _verdicts.TryAdd((certificateSha256, issuerSha256), issued);

    /// <summary>Whether <paramref name="issuer"/>'s key verifies <paramref name="certificate"/>'s signature; checked once per pair.</summary>
    public bool IsIssuedBy(CertificateEntry certificate, CertificateEntry issuer)
    {
        var pair = (certificate.Sha256, issuer.Sha256);
        if (_verdicts.TryGetValue(pair, out var known)) return known;
        var issued = CertificateChainBuilder.IsIssuedBy(certificate.Certificate.Value, issuer.Certificate.Value);
        if (_verdicts.TryAdd(pair, issued)) _unsaved[pair] = issued;
        return issued;
    }

    /// <summary>
    /// The verdicts checked in this process and not yet written whose two certificates are both in
    /// <paramref name="stored"/>; the others wait (the certificate may be in a transaction not committed yet).
    /// </summary>
    public IReadOnlyList<(string Certificate, string Issuer, bool Issued)> TakeUnsaved(IReadOnlySet<string> stored)
    {
        var taken = new List<(string, string, bool)>();
        foreach (var (pair, issued) in _unsaved)
            if (stored.Contains(pair.Certificate) && stored.Contains(pair.Issuer) && _unsaved.TryRemove(pair, out _))
                taken.Add((pair.Certificate, pair.Issuer, issued));
        return taken;
    }

    public IReadOnlyList<(IReadOnlyList<int> Chain, bool Complete)> Build(IReadOnlyList<CertificateEntry> certificates)
    {
        var bySubject = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < certificates.Count; i++)
        {
            var key = certificates[i].Data.SubjectNameKey;
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
                var certificate = certificates[current];
                if (certificate.Data.SelfIssued)
                {
                    complete = IsIssuedBy(certificate, certificate);
                    break;
                }
                if (chain.Count >= CertificateChainBuilder.MaxChainLength) break;
                if (!bySubject.TryGetValue(certificate.Data.IssuerNameKey, out var candidates)) break;
                var issuer = candidates
                    .Where(c => !chain.Contains(c) && IsIssuedBy(certificate, certificates[c]))
                    .OrderByDescending(c => certificates[c].Data.SelfIssued)
                    .ThenByDescending(c => certificates[c].Data.Facts.NotAfter)
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
}
