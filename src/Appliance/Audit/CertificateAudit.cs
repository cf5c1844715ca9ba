using Appliance.Certificates.Store;
using Appliance.Network;

namespace Appliance.Audit;

/// <summary>The audit log's words for certificate changes, shared by the API and the Security pages.</summary>
internal static class CertificateAudit
{
    public static string Imported(ImportResult result)
    {
        var parts = new List<string>();
        if (result.Certificates.Count > 0)
            parts.Add($"{AuditTrail.Count(result.Certificates.Count, "certificate")}: {string.Join(", ", result.Certificates.Select(c => c.FriendlyName))}");
        if (result.Keys.Count > 0) parts.Add(AuditTrail.Count(result.Keys.Count, "private key"));
        return parts.Count == 0 ? "Imported nothing" : "Imported " + string.Join("; ", parts);
    }

    public static string Exported(ExportSpec spec, IEnumerable<string> names)
    {
        var what = new List<string>();
        if (spec.Certificate || spec.Format == ExportFormat.Pkcs7) what.Add("certificate");
        if (spec.PrivateKey)
            what.Add(spec.UnencryptedPrivateKey ? "PRIVATE KEY UNENCRYPTED (no passphrase; the admin confirmed the export in clear)" : "PRIVATE KEY (passphrase-protected)");
        if (spec.Chain) what.Add("chain");
        return $"Exported {string.Join(", ", names.Select(n => $"'{n}'"))} as {spec.Format.ToString().ToUpperInvariant()}: {string.Join(", ", what)}";
    }

    public static string Default(string? name) =>
        name is null ? "Cleared the default certificate" : $"Set '{name}' as the default certificate";

    public static string Deleted(string name) => $"Deleted the certificate '{name}'";

    public static string DeletedRequest(string name) => $"Deleted the certificate request '{name}'";

    public static string Created(StoredRequest? request, StoredCertificate? certificate) => certificate is not null
        ? $"Created the self-signed certificate '{certificate.FriendlyName}'"
        : $"Created the certificate request '{request!.FriendlyName}'";

    public static string Assigned(IReadOnlyList<AddressAssignment> changes, CertificateStore store) =>
        "Changed the IP configuration: " + string.Join("; ", changes.Select(a =>
            $"{a.Address}: certificate {(a.CertificateId is { } id ? $"'{store.GetCertificate(id).FriendlyName}'" : "none")}, /appliance {(a.ApplianceAccess ? "on" : "off")}, site {(a.SiteAccess ? "on" : "off")}"));
}
