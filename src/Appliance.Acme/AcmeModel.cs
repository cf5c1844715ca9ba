using Appliance.Acme.Renewal;

namespace Appliance.Acme;

/// <summary>What the admin enters to register an ACME server (DESIGN.md acme/servers).</summary>
public sealed record AcmeServerSpec(
    string? Type,
    string? DirectoryUrl,
    string? Website,
    string? TermsOfService,
    string? Email,
    string? EabKeyId,
    string? EabHmacKey);

/// <summary>A registered ACME server with its account. The EAB HMAC key is kept sealed and never shown again.</summary>
public sealed record AcmeServer(
    string Id,
    string Type,
    string DirectoryUrl,
    string? Website,
    string? TermsOfService,
    string? Email,
    string? EabKeyId,
    string AccountUrl,
    IReadOnlyList<string> Profiles,
    DateTimeOffset CreatedAt);

/// <summary>An automated certificate: one hostname kept issued and renewed by one ACME server.</summary>
public sealed record AutomatedCertificate(
    string Id,
    string ServerId,
    string Hostname,
    string KeyType,
    string? Profile,
    AutomatedCertificateStatus Status,
    string? LastError,
    DateTimeOffset? RenewAfter,
    string? CertificateId,
    string? Reason,
    RenewalHistory History,
    DateTimeOffset CreatedAt)
{
    /// <summary>The issuer common name of the topmost certificate of the chain to keep when the CA offers several (certbot's --preferred-chain); null for the CA's default.</summary>
    public string? PreferredChain { get; init; }
}

/// <summary>The server types the admin picks from; the well-known CAs come with their URLs filled in.</summary>
public static class AcmeServerTypes
{
    public const string LetsEncrypt = "letsencrypt";
    public const string Buypass = "buypass";
    public const string Custom = "custom";

    public static readonly IReadOnlyList<string> All = [LetsEncrypt, Buypass, Custom];

    /// <summary>Directory URL, website and terms of service of a well-known CA; the directory's own meta wins when it has them.</summary>
    public static (string DirectoryUrl, string Website, string TermsOfService)? Defaults(string type) => type switch
    {
        LetsEncrypt => ("https://acme-v02.api.letsencrypt.org/directory", "https://letsencrypt.org", "https://letsencrypt.org/repository/"),
        Buypass => ("https://api.buypass.com/acme/directory", "https://www.buypass.com", "https://www.buypass.com/ssl/resources/acme-free-ssl"),
        _ => null,
    };
}

public enum AcmeSettingsFailure { Invalid, NotFound, Conflict, InUse }

/// <summary>A refused change to ACME servers or automated certificates; the message says what to do.</summary>
public sealed class AcmeSettingsException(AcmeSettingsFailure reason, string message) : Exception(message)
{
    public AcmeSettingsFailure Reason { get; } = reason;
}

/// <summary>An automated certificate that still failed to renew near expiry (or whose CA moved its renewal window earlier).</summary>
public sealed record RenewalAlert(AutomatedCertificate Certificate, DateTimeOffset? NotAfter, int? DaysLeft, string Reason);

/// <summary>Delivers renewal alerts to the admins (email when enabled). Must not throw for a delivery failure it can report itself.</summary>
public interface IRenewalAlerts
{
    Task SendAsync(RenewalAlert alert, CancellationToken cancellationToken);
}
