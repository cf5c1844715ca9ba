using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Audit;
using Appliance.Email;
using Appliance.Platform.Email;
using Appliance.Edge;

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

        email.MapGet("", (EmailSettingsStore store) => Results.Json(Dto(store.Load()), EmailApiJson.Default.EmailSettingsDto))
            .Produces<EmailSettingsDto>().WithSummary("The email (SMTP) settings; the password is never shown");

        email.MapPut("", async (HttpContext context, EmailSettingsStore store) =>
        {
            var body = await ApiEndpoints.ReadJson(context, EmailApiJson.Default.EmailSettingsBody);
            // Settings that cannot be used are refused (EmailException, answered by ErrorMiddleware); nothing is saved.
            var settings = EmailSettingsChange.Apply(store.Load(), body.Enabled ?? false, body.Server, body.Port, body.Security, body.Username,
                body.Password, body.Sender, body.Recipients, body.TrustedCertificate);
            store.Save(settings);
            AuditTrail.Done(context, EmailSettingsChange.Describe(settings));
            return Results.Json(Dto(store.Load()), EmailApiJson.Default.EmailSettingsDto);
        }).Accepts<EmailSettingsBody>("application/json").Produces<EmailSettingsDto>().WithSummary("Change the email settings").Audited("Change the email settings");

        // Sends with the saved settings, enabled or not, so the admin can check them before turning alerts on.
        email.MapPost("/test", async (HttpContext context, EmailSettingsStore store, SmtpMailer mailer, Platform.SystemFacts facts) =>
        {
            var settings = store.Load();
            if (settings.Server.Length == 0)
                return Problem.Of(409, "No SMTP server is configured: save the email settings (PUT email) first.");
            // A failure to send is an EmailException, answered by ErrorMiddleware (502 when the SMTP server failed).
            var message = await EmailSettingsChange.SendTestAsync(settings, mailer, facts.HostName, context.RequestAborted);
            AuditTrail.Done(context, $"Sent a test email to {string.Join(", ", settings.Recipients)}");
            return Results.Json(new EmailTestDto(true, settings.Recipients, message), EmailApiJson.Default.EmailTestDto);
        }).Produces<EmailTestDto>().WithSummary("Send a test email to the recipients").Refuses(502).Audited("Send a test email");
    }

    private static EmailSettingsDto Dto(SmtpSettings s) => new(s.Enabled, s.Server, s.Port, SmtpSettings.SecurityName(s.Security), s.Username,
        !string.IsNullOrEmpty(s.Password), s.Sender, s.Recipients, s.TrustedCertificate);
}
