using Appliance.Platform.Email;

namespace Appliance.Email;

/// <summary>
/// New SMTP settings from the values an admin sent (API or Email page), over the stored ones: the stored password
/// stays unless a new one (or "" to remove it) is given, and never outlives its username nor its server (host, port and
/// security); the trusted server certificate stays unless a new one (or "" to remove it) is given. Shared so both refuse alike.
/// </summary>
internal static class EmailSettingsChange
{
    /// <summary>Throws <see cref="EmailException"/> (Invalid) naming the first unusable value.</summary>
    public static SmtpSettings Apply(SmtpSettings current, bool enabled, string? server, int? port, string? security, string? username,
        string? password, string? sender, IEnumerable<string>? recipients, string? trustedCertificate)
    {
        SmtpSecurity parsed;
        if (security is null) parsed = current.Security;
        else parsed = SmtpSettings.ParseSecurity(security)
            ?? throw new EmailException(EmailFailure.Invalid, $"The security '{security}' is not known: use \"none\", \"starttls\" or \"tls\".");
        var user = string.IsNullOrWhiteSpace(username) ? null : username.Trim();
        var newServer = server?.Trim() ?? "";
        var newPort = port ?? DefaultPort(parsed);
        // The stored password goes only to the server it was entered for: a new server, port or security would send it
        // to whoever answers there (email/test), so it is dropped unless entered again in the same change.
        var sameServer = string.Equals(newServer, current.Server, StringComparison.OrdinalIgnoreCase) && newPort == current.Port && parsed == current.Security;
        var storedFits = user is not null && user == current.Username && !string.IsNullOrEmpty(current.Password);
        if (password is null && storedFits && !sameServer && enabled)
            throw new EmailException(EmailFailure.Invalid,
                $"The SMTP server changed from {Endpoint(current.Server, current.Port, current.Security)} to {Endpoint(newServer, newPort, parsed)}: "
                + $"enter the password for '{user}' again. The saved password is sent only to the server it was entered for.");
        var keptPassword = user is null ? null : password ?? (storedFits && sameServer ? current.Password : null);
        var settings = new SmtpSettings(enabled, newServer, newPort, parsed, user, keptPassword,
            sender?.Trim() ?? "", (recipients ?? []).Select(r => r.Trim()).Where(r => r.Length > 0).ToList())
        {
            // null keeps the stored certificate; empty removes it.
            TrustedCertificate = trustedCertificate is null ? current.TrustedCertificate
                : string.IsNullOrWhiteSpace(trustedCertificate) ? null : trustedCertificate.Trim(),
        };
        settings.Validate();
        return settings;
    }

    private static string Endpoint(string server, int port, SmtpSecurity security) => $"{server}:{port} ({SmtpSettings.SecurityName(security)})";

    public static int DefaultPort(SmtpSecurity security) => security switch
    {
        SmtpSecurity.None => 25,
        SmtpSecurity.StartTls => 587,
        _ => 465,
    };

    /// <summary>The audit log's words for saved settings (never the password).</summary>
    public static string Describe(SmtpSettings s) =>
        $"Changed the email settings: server {Endpoint(s.Server, s.Port, s.Security)}"
        + (s.Username is null ? ", no login" : $", login as '{s.Username}'")
        + $", sender {s.Sender}, recipients {(s.Recipients.Count == 0 ? "none" : string.Join(", ", s.Recipients))}, alerts {(s.Enabled ? "on" : "off")}";

    /// <summary>The test email with the saved settings; throws <see cref="EmailException"/> with the failure in words.</summary>
    public static async Task<string> SendTestAsync(SmtpSettings settings, SmtpMailer mailer, string hostName, CancellationToken cancellationToken)
    {
        // Checked as if alerts were on: saved while off, settings may lack what a send needs (a login without its password).
        (settings with { Enabled = true }).Validate();
        await mailer.SendAsync(settings, $"Test email from appliance {hostName}",
            $"This is a test email from the appliance {hostName}.\n\nIf you received it, the appliance can send you its alerts, "
            + "such as certificates that could not be renewed.\n", cancellationToken);
        return $"The test email was handed to {settings.Server}:{settings.Port} for {string.Join(", ", settings.Recipients)}.";
    }
}
