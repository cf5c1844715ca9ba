namespace Appliance.Platform.Email;

/// <summary>How the SMTP connection is protected: none, STARTTLS after connecting (RFC 3207), or TLS from the first byte (RFC 8314).</summary>
public enum SmtpSecurity { None, StartTls, Tls }

/// <summary>Where and how the appliance sends mail. <see cref="Password"/> is the plain password, only in memory.</summary>
public sealed record SmtpSettings(
    bool Enabled, string Server, int Port, SmtpSecurity Security, string? Username, string? Password, string Sender, IReadOnlyList<string> Recipients)
{
    /// <summary>
    /// A PEM certificate trusted for the SMTP server's TLS certificate besides the system CA store: the private CA that issued
    /// it, or the server's self-signed certificate. Null: the system store only.
    /// </summary>
    public string? TrustedCertificate { get; init; }

    public static readonly SmtpSettings Disabled = new(false, "", 25, SmtpSecurity.StartTls, null, null, "", []);

    /// <summary>Throws <see cref="EmailException"/> (Invalid) naming the first unusable value. Disabled settings may stay incomplete.</summary>
    public void Validate()
    {
        if (Port is < 1 or > 65535) throw new EmailException(EmailFailure.Invalid, $"The SMTP port {Port} is not a port: use 1 to 65535 (usually 25, 587 for STARTTLS or 465 for TLS).");
        if (TrustedCertificate is not null) SmtpServerTrust.ParseTrusted(TrustedCertificate);
        if (!Enabled) return;
        if (string.IsNullOrWhiteSpace(Server) || Server.Any(char.IsWhiteSpace))
            throw new EmailException(EmailFailure.Invalid, $"The SMTP server '{Server}' is not a host name or address: enter the mail server's name.");
        if (!string.IsNullOrEmpty(Username) && string.IsNullOrEmpty(Password))
            throw new EmailException(EmailFailure.Invalid, $"A login as '{Username}' needs a password: enter it, or leave the username empty to send without login.");
        _ = SmtpMailer.Compose(this, "", "");
    }

    public static string SecurityName(SmtpSecurity security) => security switch
    {
        SmtpSecurity.None => "none",
        SmtpSecurity.StartTls => "starttls",
        _ => "tls",
    };

    public static SmtpSecurity? ParseSecurity(string? value) => value?.ToLowerInvariant() switch
    {
        "none" => SmtpSecurity.None,
        "starttls" => SmtpSecurity.StartTls,
        "tls" => SmtpSecurity.Tls,
        _ => null,
    };
}

public enum EmailFailure { Invalid, Disabled, Unreachable, Tls, Authentication, Refused }

/// <summary>Mail could not be sent (or the settings are not usable); the message says what failed and what to do.</summary>
public sealed class EmailException(EmailFailure reason, string message, Exception? inner = null) : Exception(message, inner)
{
    public EmailFailure Reason { get; } = reason;
}
