using System.Net;
using Appliance.Acme.Renewal;
using Appliance.Acme.Tests.Infrastructure;
using Appliance.Certificates.Formats;
using Microsoft.Extensions.Time.Testing;
using static Appliance.Acme.Tests.Infrastructure.ScriptedAcmeHandler;

namespace Appliance.Acme.Tests;

/// <summary>
/// The scheduler on a fake clock with a CA that fails every order: at 31, 30, 26, 25 and 24 days before expiry the
/// decisions, the stored state and the alerts are as the seed says.
/// </summary>
public sealed class RenewalSchedulerTests : IDisposable
{
    private static readonly DateTimeOffset Expiry = new(2026, 9, 30, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Expiry - TimeSpan.FromDays(31));
    private readonly TestState _state;
    private readonly ScriptedAcmeHandler _ca = new();
    private readonly RecordingAlerts _alerts = new();

    public RenewalSchedulerTests() => _state = new TestState(_time);

    private async Task<(AcmeService Service, RenewalScheduler Scheduler, AutomatedCertificate Certificate)> SetUpAsync()
    {
        _ca.On("GET /dir", _ => Json(Directory()), repeat: true)
           .On("POST /acct", _ => Json("""{"status":"valid"}""", HttpStatusCode.Created, location: Base + "/acct/1"))
           .On("POST /order", _ => Problem(AcmeErrors.ServerInternal, "the CA is down for maintenance", HttpStatusCode.InternalServerError), repeat: true);
        var service = new AcmeService(_state.Database, _state.Vault, _state.Store, new Http01ChallengeStore(), new HttpClient(_ca), _time);
        var server = await service.RegisterServerAsync(new AcmeServerSpec("custom", Base + "/dir", null, null, "admin@example.com", null, null));
        var requested = service.RequestCertificate(server.Id, "shop.example.com", "ecdsa-p256");

        // The certificate issued 59 days ago, valid for 90 days.
        using var key = KeyFactory.Generate("ecdsa-p256");
        var certificate = CertificateRequestFactory.CreateSelfSigned(new SubjectName(null, null, null, null, null, "shop.example.com"), ["shop.example.com"],
            key, Expiry - TimeSpan.FromDays(90), Expiry);
        var stored = _state.Store.StoreIssued(certificate.ExportCertificatePem(), key, "shop.example.com");
        service.Repository.UpdateCertificate(requested.Id, AutomatedCertificateStatus.Valid, null, null, null, RenewalHistory.Empty, stored.Id);
        return (service, new RenewalScheduler(service, _alerts, _time), service.GetCertificate(requested.Id));
    }

    private async Task<AutomatedCertificate> PassAtAsync(AcmeService service, RenewalScheduler scheduler, string id, double daysBeforeExpiry)
    {
        _time.SetUtcNow(Expiry - TimeSpan.FromDays(daysBeforeExpiry));
        await scheduler.RunDueAsync(CancellationToken.None);
        await scheduler.WhenIdleAsync();
        return service.GetCertificate(id);
    }

    private int Orders => _ca.Requests.Count(r => r.Route == "POST /order");

    [Fact]
    public async Task FromThirtyOneToTwentyFourDaysBeforeExpiryTheStateAndTheDailyAlertFollowTheSeed()
    {
        var (service, scheduler, certificate) = await SetUpAsync();

        var at31 = await PassAtAsync(service, scheduler, certificate.Id, 31);
        Assert.Equal(AutomatedCertificateStatus.Valid, at31.Status);
        Assert.Equal(Expiry - TimeSpan.FromDays(30), at31.RenewAfter);
        Assert.Equal(0, Orders);

        var at30 = await PassAtAsync(service, scheduler, certificate.Id, 30);
        Assert.Equal(1, Orders);
        Assert.Equal(AutomatedCertificateStatus.Renewing, at30.Status);
        Assert.Equal("The ACME server refused POST https://ca.test/order: the CA is down for maintenance (serverInternal).", at30.LastError);
        Assert.Empty(_alerts.Alerts);

        var at26 = await PassAtAsync(service, scheduler, certificate.Id, 26);
        Assert.Equal(2, Orders);
        Assert.Equal(AutomatedCertificateStatus.Renewing, at26.Status);
        Assert.Empty(_alerts.Alerts);

        var at25 = await PassAtAsync(service, scheduler, certificate.Id, 25);
        Assert.Equal(3, Orders);
        Assert.Equal(AutomatedCertificateStatus.Error, at25.Status);
        var alert = Assert.Single(_alerts.Alerts);
        Assert.Equal(25, alert.DaysLeft);
        Assert.StartsWith("The automated certificate for shop.example.com (id " + certificate.Id + ") expires in 25 days, on 2026-09-30, and has not been renewed. "
            + "Not renewed 25 days before expiry on 2026-09-30", RenewalScheduler.AlertText(alert));
        Assert.EndsWith("Last error: The ACME server refused POST https://ca.test/order: the CA is down for maintenance (serverInternal).", alert.Reason);

        // Two hours later: backoff has passed, it tries again, but no second alert the same day.
        await PassAtAsync(service, scheduler, certificate.Id, 25 - 2.0 / 24);
        Assert.Single(_alerts.Alerts);

        var at24 = await PassAtAsync(service, scheduler, certificate.Id, 24);
        Assert.Equal(AutomatedCertificateStatus.Error, at24.Status);
        Assert.Equal(2, _alerts.Alerts.Count);
        Assert.Equal(24, _alerts.Alerts[1].DaysLeft);
        Assert.All(at24.History.Attempts, a => Assert.False(a.Succeeded));
    }

    [Fact]
    public async Task TheStateSurvivesARestartOfTheService()
    {
        var (service, scheduler, certificate) = await SetUpAsync();
        await PassAtAsync(service, scheduler, certificate.Id, 25);
        var again = new AcmeService(_state.Database, _state.Vault, _state.Store, new Http01ChallengeStore(), new HttpClient(_ca), _time);
        var reloaded = again.GetCertificate(certificate.Id);
        Assert.Equal(AutomatedCertificateStatus.Error, reloaded.Status);
        Assert.Equal(Expiry - TimeSpan.FromDays(25), reloaded.History.LastAlertAt);
        Assert.Single(reloaded.History.Attempts);
        // Right after the restart the backoff of the last failure still holds.
        Assert.Equal(RenewalAction.Wait, again.Decide(reloaded).Action);
    }

    public void Dispose() => _state.Dispose();
}
