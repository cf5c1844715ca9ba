using System.Globalization;
using Appliance.Audit;
using Appliance.Edge;
using Appliance.Email;
using Appliance.Platform;
using Appliance.Platform.Email;
using Appliance.Ui.Slices;

namespace Appliance.Ui;

/// <summary>
/// Email: the SMTP settings (stored by <see cref="EmailSettingsStore"/> with the API's rules, <see cref="EmailSettingsChange"/>)
/// and "Send a test email" with the saved settings, its outcome in words.
/// </summary>
internal static class EmailPages
{
    public const string Email = UiEndpoints.Root + "/email";
    private const string Title = "Email :: SMTP Settings";

    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapGet("/email", IResult (HttpContext context, PageFrame frame, EmailSettingsStore store) =>
            EmailView.Create(new EmailPage(frame.Build(context, Title, "email", "smtp"), FormOf(store.Load()))));

        ui.MapPost("/email", async Task<IResult> (HttpContext context, PageFrame frame, EmailSettingsStore store) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            string F(string name) => form[name].ToString().Trim();
            var current = store.Load();
            var typed = new EmailForm(form["enabled"] == "on", F("server"), F("port"), F("security"), F("username"), current.Password is { Length: > 0 },
                F("sender"), form["recipients"].ToString(), form["trusted"].ToString().Trim());
            try
            {
                int? port = null;
                if (typed.Port.Length > 0)
                    port = int.TryParse(typed.Port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p
                        : throw new EmailException(EmailFailure.Invalid, $"The SMTP port '{typed.Port}' is not a number: use 1 to 65535 (usually 25, 587 for STARTTLS or 465 for TLS).");
                var password = form["password"].ToString();
                var settings = EmailSettingsChange.Apply(current, typed.Enabled, typed.Server, port, typed.Security, typed.Username,
                    password.Length == 0 ? null : password, typed.Sender, typed.Recipients.Split(['\n', '\r', ',', ';'], StringSplitOptions.RemoveEmptyEntries),
                    typed.TrustedCertificate);
                store.Save(settings);
                AuditTrail.Done(context, EmailSettingsChange.Describe(settings));
                return frame.Redirect(context, Email, Notice.Ok(settings.Enabled
                    ? "The email settings are saved; alerts are sent by email. Send a test email to check them."
                    : "The email settings are saved; alerts are not sent by email until you check \"Send alerts by email\"."));
            }
            catch (EmailException e) when (RefusalMap.Of(e) is { } refusal)
            {
                var page = new EmailPage(frame.Build(context, Title, "email", "smtp", new Notice("error", refusal.Detail, ["Nothing was changed."])), typed);
                return UiEndpoints.Render(EmailView.Create(page), refusal);
            }
        }).Audited("Change the email settings");

        ui.MapPost("/email/test", async Task<IResult> (HttpContext context, PageFrame frame, EmailSettingsStore store, SmtpMailer mailer, SystemFacts facts) =>
        {
            var settings = store.Load();
            if (settings.Server.Length == 0)
                return frame.Redirect(context, Email, Notice.Error("No SMTP server is configured: enter the settings and click Save first."));
            try
            {
                var message = await EmailSettingsChange.SendTestAsync(settings, mailer, facts.HostName, context.RequestAborted);
                AuditTrail.Done(context, $"Sent a test email to {string.Join(", ", settings.Recipients)}");
                return frame.Redirect(context, Email, Notice.Ok(message + " Check that it arrived."));
            }
            catch (EmailException e)
            {
                return frame.Redirect(context, Email, Notice.Error($"The test email was not sent. {e.Message}"));
            }
        }).Audited("Send a test email");
    }

    private static EmailForm FormOf(SmtpSettings s) => new(s.Enabled, s.Server, s.Server.Length == 0 ? "" : s.Port.ToString(CultureInfo.InvariantCulture),
        SmtpSettings.SecurityName(s.Security), s.Username ?? "", !string.IsNullOrEmpty(s.Password), s.Sender, string.Join('\n', s.Recipients),
        s.TrustedCertificate ?? "");
}
