using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Appliance.Platform.Email;

/// <summary>
/// Whether the SMTP server's TLS certificate is trusted: by the system CA store (what TLS itself checked), or else by the
/// one certificate the admin pasted into the email settings (the private CA that issued the server's certificate, or a
/// self-signed server certificate itself). The server name must match either way; verification is never turned off.
/// </summary>
public static class SmtpServerTrust
{
    /// <summary>The certificates of a PEM text; throws <see cref="EmailException"/> (Invalid) when it holds none.</summary>
    public static X509Certificate2Collection ParseTrusted(string pem)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
        }
        catch (CryptographicException)
        {
            certificates.Clear();
        }
        if (certificates.Count == 0)
            throw new EmailException(EmailFailure.Invalid,
                "The trusted certificate is not a PEM certificate: paste the certificate of the CA that issued the SMTP server's certificate "
                + "(or the server's self-signed certificate), from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.");
        return certificates;
    }

    /// <summary>Null when the server is trusted; otherwise why not, in words (for "The SMTP server ... is not trusted: ...").</summary>
    public static string? Check(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, string? trustedPem)
    {
        if (errors == SslPolicyErrors.None) return null;
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) return "it sent no certificate";
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var what = $"its certificate (subject {leaf.Subject}, issued by {leaf.Issuer})";
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            return $"{what} is not for this server name; enter the name the certificate carries as the SMTP server";
        var status = chain is null ? "" : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        if (string.IsNullOrWhiteSpace(trustedPem))
            return $"{what} does not chain to a CA of the system store ({status})";

        var trusted = ParseTrusted(trustedPem);
        using var custom = new X509Chain();
        // A private CA rarely publishes revocation lists the appliance could reach; the pasted certificate is the admin's explicit choice.
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.CustomTrustStore.AddRange(trusted);
        if (chain is not null)
            foreach (var element in chain.ChainElements.Skip(1)) custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        if (custom.Build(leaf)) return null;
        var customStatus = string.Join("; ", custom.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        return $"{what} chains neither to a CA of the system store nor to the trusted certificate ({string.Join(", ", trusted.Select(t => t.Subject))}): {customStatus}";
    }
}
