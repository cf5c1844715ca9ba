using Appliance.Acme.Renewal;
using Appliance.Acme.Tests.Infrastructure;
using Appliance.Platform.Email;

namespace Appliance.Acme.Tests;

/// <summary>
/// The seed's "daily admin email alerts (if email notifications are enabled)": the scheduler on a fake clock with a CA
/// that fails every order, its alerts mailed through MailKit to a real SMTP server (aiosmtpd) started by the test.
/// </summary>
public sealed class MailedRenewalAlertsTests : IAsyncLifetime
{
    private SmtpSink _smtp = null!;
    private SmtpAdminMail _mail = null!;
    private FailingRenewal _renewal = null!;

    public async ValueTask InitializeAsync()
    {
        _smtp = await SmtpSink.StartAsync();
        _mail = new SmtpAdminMail(new SmtpSettings(true, "127.0.0.1", _smtp.Port, SmtpSecurity.None, null, null,
            "Appliance <appliance@example.com>", ["admin@example.com", "oncall@example.com"]));
        _renewal = await FailingRenewal.StartAsync(new MailedRenewalAlerts(_mail));
    }

    [Fact]
    public async Task At25And24DaysBeforeExpiryOneAlertMailADayNamesTheCertificateTheHostnameTheDaysLeftAndTheLastError()
    {
        var id = _renewal.Certificate.Id;
        await _renewal.PassAtAsync(30);
        await _renewal.PassAtAsync(26);
        Assert.Empty(await _smtp.WaitForAsync(1, seconds: 1));

        await _renewal.PassAtAsync(25);
        var first = Assert.Single(await _smtp.WaitForAsync(1));
        Assert.Equal("Certificate for shop.example.com not renewed, expires in 25 days", first.Subject);
        Assert.Equal(["admin@example.com", "oncall@example.com"], first.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("appliance@example.com", first.From.Mailboxes.Single().Address);
        var body = first.TextBody!.ReplaceLineEndings("\n");
        Assert.StartsWith($"The automated certificate for shop.example.com (id {id}) expires in 25 days, on 2026-09-30, and has not been renewed. "
            + "Not renewed 25 days before expiry on 2026-09-30", body);
        Assert.Contains("\nHostname: shop.example.com\n", body);
        Assert.Contains("\nDays left: 25\n", body);
        Assert.Contains("\nLast error: The ACME server refused POST https://ca.test/order: the CA is down for maintenance (serverInternal).\n", body);

        // Later the same day: another attempt, no second mail.
        await _renewal.PassAtAsync(25 - 2.0 / 24);
        Assert.Single(await _smtp.WaitForAsync(2, seconds: 1));

        await _renewal.PassAtAsync(24);
        var mails = await _smtp.WaitForAsync(2);
        Assert.Equal(2, mails.Count);
        Assert.Equal("Certificate for shop.example.com not renewed, expires in 24 days", mails[1].Subject);
        Assert.Contains("\nDays left: 24\n", mails[1].TextBody!.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task WithEmailNotificationsDisabledNoMailIsSent()
    {
        _mail.Settings = _mail.Settings with { Enabled = false };
        await _renewal.PassAtAsync(25);
        Assert.Equal(Renewal.AutomatedCertificateStatus.Error, _renewal.Service.GetCertificate(_renewal.Certificate.Id).Status);
        Assert.Empty(await _smtp.WaitForAsync(1, seconds: 1));
    }

    [Theory]
    [InlineData(SmtpSecurity.StartTls)]
    [InlineData(SmtpSecurity.Tls)]
    public async Task TheAlertMailArrivesOverStartTlsOrTlsWithALoginAndTheServerVerifiedAgainstTheTrustedCertificate(SmtpSecurity security)
    {
        using var tls = new PebbleTls(); // a test CA and a certificate for 127.0.0.1 made with openssl
        await using var smtp = await SmtpSink.StartAsync(new SmtpSinkOptions(SmtpSettings.SecurityName(security), tls.CertificatePath, tls.KeyPath, "appliance", "s3cret"));
        var mail = new SmtpAdminMail(new SmtpSettings(true, "127.0.0.1", smtp.Port, security, "appliance", "s3cret", "appliance@example.com", ["admin@example.com"])
        {
            TrustedCertificate = File.ReadAllText(tls.CaPath),
        });
        using var renewal = await FailingRenewal.StartAsync(new MailedRenewalAlerts(mail));
        await renewal.PassAtAsync(25);
        var alert = Assert.Single(await smtp.WaitForAsync(1));
        Assert.Equal("Certificate for shop.example.com not renewed, expires in 25 days", alert.Subject);
        Assert.Contains("\nHostname: shop.example.com\n", alert.TextBody!.ReplaceLineEndings("\n"));
    }

    public async ValueTask DisposeAsync()
    {
        _renewal?.Dispose();
        if (_smtp is not null) await _smtp.DisposeAsync();
    }

    /// <summary>The appliance's admin mail with the settings in memory instead of SQLite.</summary>
    private sealed class SmtpAdminMail(SmtpSettings settings) : IAdminMail
    {
        public SmtpSettings Settings { get; set; } = settings;

        public async Task<bool> SendAsync(string subject, string body, CancellationToken cancellationToken)
        {
            if (!Settings.Enabled) return false;
            await new SmtpMailer().SendAsync(Settings, subject, body, cancellationToken);
            return true;
        }
    }
}
