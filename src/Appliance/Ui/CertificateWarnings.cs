using Appliance.Certificates.Store;

namespace Appliance.Ui;

/// <summary>The Warnings column of Security :: Other Certificates, in the seeds' words.</summary>
public static class CertificateWarnings
{
    public static IReadOnlyList<CertificateWarning> For(StoredCertificate certificate, DateTimeOffset now)
    {
        var warnings = new List<CertificateWarning>();
        if (certificate.ChainWarning is { } chain) warnings.Add(new("bad", chain));
        var facts = certificate.Facts;
        var days = (int)Math.Floor((facts.NotAfter - now).TotalDays);
        if (facts.NotAfter <= now) warnings.Add(new("bad", $"Expired on {facts.NotAfter:yyyy-MM-dd}"));
        else if (facts.NotBefore > now) warnings.Add(new("warn", $"Not valid before {facts.NotBefore:yyyy-MM-dd}"));
        else if (days < ExpiryTimeline.SoonDays) warnings.Add(new("warn", days == 0 ? "Expires today" : $"Expiring soon: {days} day{(days == 1 ? "" : "s")} left"));
        if (Certificates.KeyTypeServing.Name(facts.KeyAlgorithm) is var key && Certificates.KeyTypeServing.Refusal(certificate.FriendlyName, facts.KeyAlgorithm) is not null)
            warnings.Add(new("bad", $"Cannot be served: {key ?? "unknown"} key (browsers accept RSA and ECDSA only)"));
        if (certificate.IsFactory) warnings.Add(new("info", "Factory certificate"));
        else if (facts.IsSelfSigned) warnings.Add(new("info", facts.IsCertificateAuthority ? "Self-signed (root CA)" : "Self-signed"));
        else if (facts.IsCertificateAuthority) warnings.Add(new("info", "Certificate authority"));
        return warnings;
    }
}
