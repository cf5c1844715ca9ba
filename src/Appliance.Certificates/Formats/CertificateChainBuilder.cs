using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.X509;

namespace Appliance.Certificates.Formats;

/// <summary>Chain building and signature checks over a pool of certificates.</summary>
public static class CertificateChainBuilder
{
    /// <summary>Longest chain followed; real PKI chains have 2 to 4 certificates.</summary>
    public const int MaxChainLength = 10;

    /// <summary>The chain from <paramref name="leaf"/> (first) up through issuers found in <paramref name="pool"/>;
    /// complete when it ends in a self-signed certificate whose signature verifies.</summary>
    /// <remarks>Among several candidate issuers (a renewed CA, cross-signs) the one valid longest (latest notAfter) wins,
    /// preferring a self-signed one so the chain ends at a root when one is present. Cycles are cut.</remarks>
    public static (IReadOnlyList<X509Certificate2> Chain, bool Complete) Build(X509Certificate2 leaf, IEnumerable<X509Certificate2> pool)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        ArgumentNullException.ThrowIfNull(pool);
        var candidates = pool.ToList();
        var chain = new List<X509Certificate2> { leaf };
        var seen = new HashSet<string>(StringComparer.Ordinal) { leaf.Thumbprint };
        var current = leaf;
        while (true)
        {
            if (IsSelfSigned(current))
            {
                return (chain, IsIssuedBy(current, current));
            }

            if (chain.Count >= MaxChainLength)
            {
                return (chain, false);
            }

            var issuer = candidates
                .Where(c => !seen.Contains(c.Thumbprint) && IsIssuedBy(current, c))
                .OrderByDescending(IsSelfSigned)
                .ThenByDescending(c => c.NotAfter)
                .FirstOrDefault();
            if (issuer is null)
            {
                return (chain, false);
            }

            chain.Add(issuer);
            seen.Add(issuer.Thumbprint);
            current = issuer;
        }
    }

    /// <summary>True when <paramref name="issuer"/>'s subject is <paramref name="certificate"/>'s issuer and its key verifies the signature.</summary>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        if (!NamesMatch(certificate.IssuerName, issuer.SubjectName))
        {
            return false;
        }

        try
        {
            // BouncyCastle verifies every signature algorithm a CA may use (RSA PKCS#1 and PSS, ECDSA, EdDSA),
            // which .NET's public key classes do not expose over raw TBS bytes.
            var parser = new X509CertificateParser();
            var child = parser.ReadCertificate(certificate.RawData);
            var parent = parser.ReadCertificate(issuer.RawData);
            return child.IsSignatureValid(parent.GetPublicKey());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
    }

    /// <summary>Subject equals issuer and the certificate's own key verifies it (RFC 5280 6.1: a trust anchor candidate).</summary>
    public static bool IsSelfSigned(X509Certificate2 certificate) =>
        NamesMatch(certificate.IssuerName, certificate.SubjectName);

    // RFC 5280 7.1 compares names after normalization; byte equality covers nearly all real chains,
    // BouncyCastle's equivalence (case and space folding) covers the rest.
    private static bool NamesMatch(X500DistinguishedName a, X500DistinguishedName b)
    {
        if (a.RawData.AsSpan().SequenceEqual(b.RawData))
        {
            return true;
        }

        try
        {
            return Org.BouncyCastle.Asn1.X509.X509Name.GetInstance(a.RawData)
                .Equivalent(Org.BouncyCastle.Asn1.X509.X509Name.GetInstance(b.RawData));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
    }
}
