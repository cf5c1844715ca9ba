using Appliance.Acme;
using Appliance.Acme.Renewal;
using Appliance.Hosting;
using Appliance.Platform.Email;

namespace Appliance.Email;

/// <summary>Mail to the admins with the stored SMTP settings; nothing is sent while email notifications are disabled.</summary>
internal sealed class AdminMail(EmailSettingsStore settings, SmtpMailer mailer) : IAdminMail
{
    public async Task<bool> SendAsync(string subject, string body, CancellationToken cancellationToken)
    {
        var current = settings.Load();
        if (!current.Enabled) return false;
        await mailer.SendAsync(current, subject, body, cancellationToken);
        return true;
    }
}

/// <summary>
/// Renewal alerts into the service log (journal) and, when email notifications are enabled, by mail to the admins.
/// A mail that cannot be sent is logged; the alert still counts as given, so renewals go on and it repeats tomorrow.
/// </summary>
internal sealed class ServiceRenewalAlerts(AdminMail mail, ILogger<ServiceRenewalAlerts> logger) : IRenewalAlerts
{
    private readonly MailedRenewalAlerts _mailed = new(mail);

    public async Task SendAsync(RenewalAlert alert, CancellationToken cancellationToken)
    {
        AcmeHosting.LogAlert(logger, Hosting.LogText.Escape(RenewalScheduler.AlertText(alert), 2048));
        try
        {
            await _mailed.SendAsync(alert, cancellationToken);
        }
        catch (EmailException e)
        {
            AcmeHosting.LogAlertNotMailed(logger, Hosting.LogText.Escape(alert.Certificate.Hostname), Hosting.LogText.Escape(e.Message, 2048));
        }
    }
}
