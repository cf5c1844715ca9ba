using System.Globalization;

namespace Appliance.Acme.Renewal;

/// <summary>
/// Mail to the appliance's admins. Contract: answers false without sending when email notifications are disabled;
/// throws when they are enabled and the mail could not be delivered to the SMTP server.
/// </summary>
public interface IAdminMail
{
    Task<bool> SendAsync(string subject, string body, CancellationToken cancellationToken);
}

/// <summary>Renewal alerts as mail to the admins (seed: "daily admin email alerts (if email notifications are enabled)").</summary>
public sealed class MailedRenewalAlerts(IAdminMail mail) : IRenewalAlerts
{
    public Task SendAsync(RenewalAlert alert, CancellationToken cancellationToken) =>
        mail.SendAsync(Subject(alert), Body(alert), cancellationToken);

    /// <summary>The subject names the hostname and the days left, so a mailbox list shows the urgency.</summary>
    public static string Subject(RenewalAlert alert) =>
        $"Certificate for {alert.Certificate.Hostname} not renewed"
        + (alert.DaysLeft is { } days ? days < 0 ? " and expired" : $", expires in {days} {(days == 1 ? "day" : "days")}" : "");

    /// <summary>The body: the alert text (certificate, hostname, days left, last error) and what the admin can do.</summary>
    public static string Body(RenewalAlert alert) =>
        RenewalScheduler.AlertText(alert) + "\n\n"
        + $"Certificate: {alert.Certificate.Hostname} (automated certificate {alert.Certificate.Id}"
        + (alert.Certificate.CertificateId is { } current ? $", current certificate {current}" : "") + ")\n"
        + $"Hostname: {alert.Certificate.Hostname}\n"
        + (alert.NotAfter is { } end ? $"Expires: {end.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}\n" : "")
        + (alert.DaysLeft is { } left ? $"Days left: {left}\n" : "")
        + $"Last error: {alert.Certificate.LastError ?? "none recorded"}\n\n"
        + "The appliance keeps trying and sends this alert once a day until the certificate is renewed. "
        + $"Check the error above, then renew the certificate from the appliance's Security page or with POST acme/certificates/{alert.Certificate.Id}/renew.\n";
}
