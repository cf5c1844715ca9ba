using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Email;
using Appliance.Platform.Email;

namespace Appliance.Api;

/// <summary>
/// PUT email: the password and the trusted certificate are kept when omitted (null) and removed when empty.
/// <c>trustedCertificate</c> is a PEM certificate trusted for the SMTP server's TLS certificate besides the system CA store.
/// </summary>
internal sealed record EmailSettingsBody(
    bool? Enabled, string? Server, int? Port, string? Security, string? Username, string? Password, string? Sender, List<string>? Recipients,
    string? TrustedCertificate = null);

internal sealed record EmailSettingsDto(
    bool Enabled, string Server, int Port, string Security, string? Username, bool HasPassword, string Sender, IReadOnlyList<string> Recipients,
    string? TrustedCertificate);

internal sealed record EmailTestDto(bool Sent, IReadOnlyList<string> Recipients, string Message);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(EmailSettingsBody))]
[JsonSerializable(typeof(EmailSettingsDto))]
[JsonSerializable(typeof(EmailTestDto))]
internal sealed partial class EmailApiJson : JsonSerializerContext;

/// <summary>SMTP settings for admin email notifications and "send a test email", under /appliance/api/v1/email.</summary>
internal static class EmailEndpoints
{
    public static void Map(WebApplication app)
    {
        var email = app.MapGroup(ApiEndpoints.Prefix + "/email");

        email.MapGet("", (EmailSettingsStore store) => Results.Json(Dto(store.Load()), EmailApiJson.Default.EmailSettingsDto));

        email.MapPut("", async (HttpContext context, EmailSettingsStore store) =>
        {
            var body = await ApiEndpoints.ReadJson(context, EmailApiJson.Default.EmailSettingsBody);
            var current = store.Load();
            SmtpSecurity security;
            if (body.Security is null) security = current.Security;
            else if (SmtpSettings.ParseSecurity(body.Security) is { } parsed) security = parsed;
            else return ApiEndpoints.Problem(400, $"The security '{body.Security}' is not known: use \"none\", \"starttls\" or \"tls\".");
            var username = string.IsNullOrWhiteSpace(body.Username) ? null : body.Username.Trim();
            // The stored password stays unless a new one (or "" to remove it) is given, and never outlives its username.
            var password = username is null ? null : body.Password is null ? (username == current.Username ? current.Password : null) : body.Password;
            var settings = new SmtpSettings(body.Enabled ?? false, body.Server?.Trim() ?? "", body.Port ?? DefaultPort(security), security,
                username, password, body.Sender?.Trim() ?? "", (body.Recipients ?? []).Select(r => r.Trim()).Where(r => r.Length > 0).ToList())
            {
                TrustedCertificate = body.TrustedCertificate is null ? current.TrustedCertificate
                    : string.IsNullOrWhiteSpace(body.TrustedCertificate) ? null : body.TrustedCertificate.Trim(),
            };
            try
            {
                settings.Validate();
            }
            catch (EmailException e)
            {
                return ApiEndpoints.Problem(400, e.Message);
            }
            store.Save(settings);
            return Results.Json(Dto(store.Load()), EmailApiJson.Default.EmailSettingsDto);
        });

        // Sends with the saved settings, enabled or not, so the admin can check them before turning alerts on.
        email.MapPost("/test", async (HttpContext context, EmailSettingsStore store, SmtpMailer mailer, Platform.SystemFacts facts) =>
        {
            var settings = store.Load();
            if (settings.Server.Length == 0)
                return ApiEndpoints.Problem(409, "No SMTP server is configured: save the email settings (PUT email) first.");
            try
            {
                settings.Validate();
                await mailer.SendAsync(settings, $"Test email from appliance {facts.HostName}",
                    $"This is a test email from the appliance {facts.HostName}.\n\nIf you received it, the appliance can send you its alerts, "
                    + "such as certificates that could not be renewed.\n", context.RequestAborted);
            }
            catch (EmailException e)
            {
                return ApiEndpoints.Problem(e.Reason == EmailFailure.Invalid ? 400 : 502, e.Message);
            }
            return Results.Json(new EmailTestDto(true, settings.Recipients,
                $"The test email was handed to {settings.Server}:{settings.Port} for {string.Join(", ", settings.Recipients)}."), EmailApiJson.Default.EmailTestDto);
        });
    }

    private static int DefaultPort(SmtpSecurity security) => security switch
    {
        SmtpSecurity.None => 25,
        SmtpSecurity.StartTls => 587,
        _ => 465,
    };

    private static EmailSettingsDto Dto(SmtpSettings s) => new(s.Enabled, s.Server, s.Port, SmtpSettings.SecurityName(s.Security), s.Username,
        !string.IsNullOrEmpty(s.Password), s.Sender, s.Recipients, s.TrustedCertificate);
}
