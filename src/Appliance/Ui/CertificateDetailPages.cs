using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates;
using Appliance.Certificates.Store;
using Appliance.Ui.Slices;

namespace Appliance.Ui;

/// <summary>
/// Security :: Other Certificates :: one certificate (issue 11): everything the seeds ask to read off a certificate
/// (full subject, SANs, serial, fingerprints, validity, key, issuer, chain with the incomplete-chain warning, the
/// addresses it answers on, default, source) and its PEM and chain PEM downloads. Read only: every change is made
/// from the list. The admin session is required as for every /appliance page (AuthenticationMiddleware).
/// </summary>
internal static class CertificateDetailPages
{
    /// <summary>The page of the certificate <paramref name="id"/>; every certificate name in the UI links here.</summary>
    public static string PathOf(string id) => CertificatePages.Certificates + "/" + Uri.EscapeDataString(id);

    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapGet("/security/certificates/{id}", IResult (string id, HttpContext context, PageFrame frame, CertificateStore store, TimeProvider time) =>
        {
            var certificates = store.ListCertificates();
            var certificate = certificates.FirstOrDefault(c => c.Id == id);
            if (certificate is null) return Missing(context, frame, id);
            var page = Build(frame.Build(context, "Security :: Other Certificates :: " + certificate.FriendlyName, "security", "certificates"),
                certificate, certificates, time.GetUtcNow());
            return CertificateView.Create(page);
        });

        ui.MapGet("/security/certificates/{id}/certificate.pem", IResult (string id, HttpContext context, PageFrame frame, CertificateStore store) =>
            store.ListCertificates().FirstOrDefault(c => c.Id == id) is { } certificate
                ? Pem(FileStem(certificate) + ".pem", [certificate])
                : Missing(context, frame, id));

        ui.MapGet("/security/certificates/{id}/chain.pem", IResult (string id, HttpContext context, PageFrame frame, CertificateStore store) =>
        {
            var certificates = store.ListCertificates();
            return certificates.FirstOrDefault(c => c.Id == id) is { } certificate
                ? Pem(FileStem(certificate) + "-chain.pem", ChainOf(certificate, certificates))
                : Missing(context, frame, id);
        });
    }

    internal static CertificateDetailPage Build(LayoutModel layout, StoredCertificate certificate, IReadOnlyList<StoredCertificate> all, DateTimeOffset now) => new(
        layout,
        certificate,
        SubjectFields.Read(certificate.Certificate.SubjectName),
        Convert.ToHexStringLower(SHA1.HashData(certificate.Der.Span)),
        ChainOf(certificate, all),
        CertificateStore.DefaultRefusal(certificate),
        KeyTypeServing.Refusal(certificate.FriendlyName, certificate.Facts.KeyAlgorithm),
        // The chain warning stands beneath the name (the seed's place for it), not again in the list.
        CertificateWarnings.For(certificate, now).Where(w => w.Text != certificate.ChainWarning).ToList());

    // The chain as the store built it, leaf first; an id no longer stored (deleted meanwhile) is left out.
    private static List<StoredCertificate> ChainOf(StoredCertificate certificate, IReadOnlyList<StoredCertificate> all)
    {
        var chain = certificate.Chain.Select(id => all.FirstOrDefault(c => c.Id == id)).OfType<StoredCertificate>().ToList();
        return chain.Count > 0 && chain[0].Id == certificate.Id ? chain : [certificate, .. chain.Where(c => c.Id != certificate.Id)];
    }

    private static IResult Pem(string fileName, IEnumerable<StoredCertificate> certificates)
    {
        var text = string.Concat(certificates.Select(c => PemEncoding.WriteString("CERTIFICATE", c.Der.Span) + "\n"));
        return Results.File(System.Text.Encoding.ASCII.GetBytes(text), "application/x-pem-file", fileName);
    }

    // A download name from the common name: letters, digits, dots and dashes only (no quoting issues in Content-Disposition).
    private static string FileStem(StoredCertificate certificate)
    {
        var name = new string((certificate.Facts.CommonName ?? certificate.Id).Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '-' ? ch : '_').ToArray()).Trim('.');
        return name.Length == 0 ? certificate.Id : name.Replace("*", "wildcard", StringComparison.Ordinal);
    }

    private static IResult Missing(HttpContext context, PageFrame frame, string id) =>
        frame.Redirect(context, CertificatePages.Certificates, Notice.Error($"There is no certificate with id '{id}'; it may have been deleted."));
}

/// <summary>The subject's attributes the seeds name (RFC 5280 4.1.2.4 / X.520), each in certificate order; several values joined.</summary>
public sealed record SubjectFields(string? Country, string? State, string? Locality, string? Organization, string? OrganizationalUnit, string? CommonName)
{
    public static SubjectFields Read(X500DistinguishedName name)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
        {
            // A multi-valued RDN has no single element; those are rare and not among the seed's fields.
            if (rdn.HasMultipleElements || rdn.GetSingleElementValue() is not { } value) continue;
            var oid = rdn.GetSingleElementType().Value ?? "";
            if (!values.TryGetValue(oid, out var list)) values[oid] = list = [];
            list.Add(value);
        }

        string? Of(string oid) => values.TryGetValue(oid, out var list) ? string.Join(", ", list) : null;
        return new(Of("2.5.4.6"), Of("2.5.4.8"), Of("2.5.4.7"), Of("2.5.4.10"), Of("2.5.4.11"), Of("2.5.4.3"));
    }
}

public sealed record CertificateDetailPage(
    LayoutModel Layout,
    StoredCertificate Certificate,
    SubjectFields Subject,
    string Sha1Fingerprint,
    IReadOnlyList<StoredCertificate> Chain,
    string? DefaultRefusal,
    string? ServingRefusal,
    IReadOnlyList<CertificateWarning> Warnings)
{
    public string KeyText => KeyTypeServing.Name(Certificate.Facts.KeyAlgorithm) is { } name ? $"{name} {Certificate.Facts.KeySize}" : "unknown";

    /// <summary>The serial as openssl shows it: without the DER sign byte (a leading 00 before a byte of 80 or more).</summary>
    public string SerialText
    {
        get
        {
            var hex = Certificate.Facts.SerialNumber;
            if (hex.Length % 2 == 1) hex = "0" + hex;
            while (hex.Length > 2 && hex.StartsWith("00", StringComparison.Ordinal)) hex = hex[2..];
            return Colons(hex);
        }
    }

    /// <summary>A hex string as colon-separated upper-case byte pairs, as browsers and openssl show fingerprints and serials.</summary>
    public static string Colons(string hex) =>
        string.Join(':', Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2).ToUpperInvariant()));

    public string SourceText => Certificate.Source switch
    {
        CertificateSource.Imported => "Imported",
        CertificateSource.SelfSigned => "Self-signed on this appliance",
        CertificateSource.Acme => "Automated certificate (ACME server)",
        CertificateSource.Factory => "Factory certificate",
        var other => other.ToText(),
    };
}
