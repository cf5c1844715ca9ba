using Appliance.Acme.Renewal;
using Appliance.Acme.Tests.Infrastructure;

namespace Appliance.Acme.Tests;

/// <summary>
/// The scheduler on a fake clock with a CA that fails every order: at 31, 30, 26, 25 and 24 days before expiry the
/// decisions, the stored state and the alerts are as the seed says.
/// </summary>
public sealed class RenewalSchedulerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Expiry = FailingRenewal.Expiry;
    private readonly RecordingAlerts _alerts = new();
    private FailingRenewal _renewal = null!;

    public async ValueTask InitializeAsync() => _renewal = await FailingRenewal.StartAsync(_alerts);

    private int Orders => _renewal.Orders;

    [Fact]
    public async Task FromThirtyOneToTwentyFourDaysBeforeExpiryTheStateAndTheDailyAlertFollowTheSeed()
    {
        var certificate = _renewal.Certificate;

        var at31 = await _renewal.PassAtAsync(31);
        Assert.Equal(AutomatedCertificateStatus.Valid, at31.Status);
        Assert.Equal(Expiry - TimeSpan.FromDays(30), at31.RenewAfter);
        Assert.Equal(0, Orders);

        var at30 = await _renewal.PassAtAsync(30);
        Assert.Equal(1, Orders);
        Assert.Equal(AutomatedCertificateStatus.Renewing, at30.Status);
        Assert.Equal("The ACME server refused POST https://ca.test/order: the CA is down for maintenance (serverInternal).", at30.LastError);
        Assert.Empty(_alerts.Alerts);

        var at26 = await _renewal.PassAtAsync(26);
        Assert.Equal(2, Orders);
        Assert.Equal(AutomatedCertificateStatus.Renewing, at26.Status);
        Assert.Empty(_alerts.Alerts);

        var at25 = await _renewal.PassAtAsync(25);
        Assert.Equal(3, Orders);
        Assert.Equal(AutomatedCertificateStatus.Error, at25.Status);
        var alert = Assert.Single(_alerts.Alerts);
        Assert.Equal(25, alert.DaysLeft);
        Assert.StartsWith("The automated certificate for shop.example.com (id " + certificate.Id + ") expires in 25 days, on 2026-09-30, and has not been renewed. "
            + "Not renewed 25 days before expiry on 2026-09-30", RenewalScheduler.AlertText(alert));
        Assert.EndsWith("Last error: The ACME server refused POST https://ca.test/order: the CA is down for maintenance (serverInternal).", alert.Reason);

        // Two hours later: backoff has passed, it tries again, but no second alert the same day.
        await _renewal.PassAtAsync(25 - 2.0 / 24);
        Assert.Single(_alerts.Alerts);

        var at24 = await _renewal.PassAtAsync(24);
        Assert.Equal(AutomatedCertificateStatus.Error, at24.Status);
        Assert.Equal(2, _alerts.Alerts.Count);
        Assert.Equal(24, _alerts.Alerts[1].DaysLeft);
        Assert.All(at24.History.Attempts, a => Assert.False(a.Succeeded));
    }

    [Fact]
    public async Task TheStateSurvivesARestartOfTheService()
    {
        var certificate = _renewal.Certificate;
        await _renewal.PassAtAsync(25);
        var state = _renewal.State;
        var again = new AcmeService(state.Database, state.Vault, state.Store, new Http01ChallengeStore(), new HttpClient(_renewal.Ca), _renewal.Time);
        var reloaded = again.GetCertificate(certificate.Id);
        Assert.Equal(AutomatedCertificateStatus.Error, reloaded.Status);
        Assert.Equal(Expiry - TimeSpan.FromDays(25), reloaded.History.LastAlertAt);
        Assert.Single(reloaded.History.Attempts);
        // Right after the restart the backoff of the last failure still holds.
        Assert.Equal(RenewalAction.Wait, again.Decide(reloaded).Action);
    }

    public ValueTask DisposeAsync()
    {
        _renewal?.Dispose();
        return ValueTask.CompletedTask;
    }
}
