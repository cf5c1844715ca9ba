using Appliance.Acme.Protocol;
using Appliance.Acme.Renewal;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Acme.Tests;

public sealed class RenewalPolicyTests
{
    private static readonly DateTimeOffset Expiry = new(2026, 9, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Issued = Expiry - TimeSpan.FromDays(90);

    private static FakeTimeProvider ClockAt(double daysBeforeExpiry) => new(Expiry - TimeSpan.FromDays(daysBeforeExpiry));

    private static RenewalHistory FailedAt(DateTimeOffset at, int count = 1, DateTimeOffset? retryNotBefore = null, DateTimeOffset? lastAlert = null) =>
        new(Enumerable.Range(0, count).Select(i => new RenewalAttempt(at - TimeSpan.FromMinutes(count - 1 - i), false, "refused", AcmeErrors.ServerInternal,
            i == count - 1 ? retryNotBefore : null)).ToList(), lastAlert);

    [Theory]
    // days before expiry, action, status, alert due
    [InlineData(31, RenewalAction.Wait, AutomatedCertificateStatus.Valid, false)]
    [InlineData(30, RenewalAction.Renew, AutomatedCertificateStatus.Renewing, false)]
    [InlineData(26, RenewalAction.Renew, AutomatedCertificateStatus.Renewing, false)]
    [InlineData(25, RenewalAction.Renew, AutomatedCertificateStatus.Error, true)]
    [InlineData(24, RenewalAction.Renew, AutomatedCertificateStatus.Error, true)]
    public void ANinetyDayCertificateRenewsFromThirtyDaysAndIsAnErrorFromTwentyFive(double days, RenewalAction action, AutomatedCertificateStatus status, bool alert)
    {
        var clock = ClockAt(days);
        var decision = RenewalPolicy.Decide(Issued, Expiry, clock.GetUtcNow(), RenewalHistory.Empty);
        Assert.Equal(action, decision.Action);
        Assert.Equal(status, decision.Status);
        Assert.Equal(alert, decision.AlertDue);
        Assert.Equal(Expiry - TimeSpan.FromDays(30), decision.RenewAfter);
    }

    [Fact]
    public void ThirtyOneDaysBeforeExpiryItWaitsUntilTheWindowOpensAndSaysWhen()
    {
        var decision = RenewalPolicy.Decide(Issued, Expiry, ClockAt(31).GetUtcNow(), RenewalHistory.Empty);
        Assert.Equal(Expiry - TimeSpan.FromDays(30), decision.NextCheck);
        Assert.Equal("Valid until 2026-09-30; renews from 2026-08-31 (30 days before expiry).", decision.Reason);
    }

    [Fact]
    public void AFailureTwentySixDaysBeforeExpiryBacksOffTenMinutesThenDoubles()
    {
        var clock = ClockAt(26);
        var now = clock.GetUtcNow();
        var once = RenewalPolicy.Decide(Issued, Expiry, now, FailedAt(now));
        Assert.Equal(RenewalAction.Wait, once.Action);
        Assert.Equal(AutomatedCertificateStatus.Renewing, once.Status);
        Assert.Equal(now + TimeSpan.FromMinutes(10), once.NextCheck);
        Assert.Equal("Renewing: 30 days before expiry; 1 attempt failed; next try at 2026-09-04 12:10 UTC.", once.Reason);

        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(RenewalAction.Renew, RenewalPolicy.Decide(Issued, Expiry, clock.GetUtcNow(), FailedAt(now)).Action);

        var thrice = RenewalPolicy.Decide(Issued, Expiry, now, FailedAt(now, count: 3));
        Assert.Equal(now + TimeSpan.FromMinutes(40), thrice.NextCheck);
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 20)]
    [InlineData(5, 160)]
    [InlineData(8, 720)]
    [InlineData(40, 720)]
    public void BackoffDoublesFromTenMinutesUpToTwelveHours(int failures, int minutes) =>
        Assert.Equal(TimeSpan.FromMinutes(minutes), RenewalPolicy.Backoff(failures));

    [Fact]
    public void ARateLimitsRetryAfterIsRespectedEvenWhenTheAdminForcesRenewal()
    {
        var now = ClockAt(28).GetUtcNow();
        var limit = now + TimeSpan.FromHours(3);
        foreach (var force in new[] { false, true })
        {
            var decision = RenewalPolicy.Decide(Issued, Expiry, now, FailedAt(now, retryNotBefore: limit), force: force);
            Assert.Equal(RenewalAction.Wait, decision.Action);
            Assert.Equal(limit, decision.NextCheck);
            Assert.EndsWith("the CA asked to wait (rate limit) until 2026-09-02 15:00 UTC.", decision.Reason);
        }
    }

    [Fact]
    public void TwentyFiveDaysBeforeExpiryAfterFailuresTheErrorStateAlertsOncePerDay()
    {
        var clock = ClockAt(25);
        var now = clock.GetUtcNow();
        var first = RenewalPolicy.Decide(Issued, Expiry, now, FailedAt(now - TimeSpan.FromHours(1), count: 4));
        Assert.Equal(AutomatedCertificateStatus.Error, first.Status);
        Assert.True(first.AlertDue);
        Assert.StartsWith("Not renewed 25 days before expiry on 2026-09-30", first.Reason);

        clock.Advance(TimeSpan.FromHours(2));
        var sameDay = RenewalPolicy.Decide(Issued, Expiry, clock.GetUtcNow(), FailedAt(now - TimeSpan.FromHours(1), count: 4, lastAlert: now));
        Assert.Equal(AutomatedCertificateStatus.Error, sameDay.Status);
        Assert.False(sameDay.AlertDue);

        clock.Advance(TimeSpan.FromHours(22));
        var nextDay = RenewalPolicy.Decide(Issued, Expiry, clock.GetUtcNow(), FailedAt(now - TimeSpan.FromHours(1), count: 4, lastAlert: now));
        Assert.True(nextDay.AlertDue);
    }

    [Fact]
    public void AShortLivedCertificateRenewsWithAThirdOfItsLifetimeLeft()
    {
        var notBefore = Expiry - TimeSpan.FromDays(6);
        var early = RenewalPolicy.Decide(notBefore, Expiry, Expiry - TimeSpan.FromDays(2.1), RenewalHistory.Empty);
        Assert.Equal(RenewalAction.Wait, early.Action);
        Assert.Equal(Expiry - TimeSpan.FromDays(2), early.NextCheck);
        Assert.Equal("Valid until 2026-09-30; renews from 2026-09-28 (one third of its 6-day lifetime before expiry).", early.Reason);
        Assert.Equal(RenewalAction.Renew, RenewalPolicy.Decide(notBefore, Expiry, Expiry - TimeSpan.FromDays(2), RenewalHistory.Empty).Action);
        Assert.Equal(AutomatedCertificateStatus.Error, RenewalPolicy.Decide(notBefore, Expiry, Expiry - TimeSpan.FromDays(1.6), RenewalHistory.Empty).Status);
    }

    [Fact]
    public void WithoutACertificateItOrdersAtOnceAndAfterAFailureShowsTheErrorAndBacksOff()
    {
        var now = ClockAt(100).GetUtcNow();
        var fresh = RenewalPolicy.Decide(null, null, now, RenewalHistory.Empty);
        Assert.Equal((RenewalAction.Renew, AutomatedCertificateStatus.Pending), (fresh.Action, fresh.Status));
        var failed = RenewalPolicy.Decide(null, null, now, FailedAt(now));
        Assert.Equal((RenewalAction.Wait, AutomatedCertificateStatus.Error), (failed.Action, failed.Status));
        Assert.Equal(now + TimeSpan.FromMinutes(10), failed.NextCheck);
    }

    [Fact]
    public void AForcedRenewalSkipsTheWindow()
    {
        var decision = RenewalPolicy.Decide(Issued, Expiry, ClockAt(60).GetUtcNow(), RenewalHistory.Empty, force: true);
        Assert.Equal(RenewalAction.Renew, decision.Action);
        Assert.EndsWith("renewal requested by the admin.", decision.Reason);
    }

    [Fact]
    public void TheCasRenewalWindowSetsTheTimeAndAWindowMovedEarlierTriggersRenewalAndAnAlert()
    {
        var now = ClockAt(60).GetUtcNow();
        var later = new RenewalInfo(new AcmeRenewalWindow(Expiry - TimeSpan.FromDays(20), Expiry - TimeSpan.FromDays(18)), null, TimeSpan.FromHours(3), now);
        var waiting = RenewalPolicy.Decide(Issued, Expiry, now, RenewalHistory.Empty, later);
        Assert.Equal(RenewalAction.Wait, waiting.Action);
        Assert.Equal(now + TimeSpan.FromHours(3), waiting.NextCheck); // the renewal information is fetched again at its Retry-After

        var moved = new RenewalInfo(new AcmeRenewalWindow(now - TimeSpan.FromHours(1), now + TimeSpan.FromHours(5)), "https://ca.example/incident", null, now);
        var decision = RenewalPolicy.Decide(Issued, Expiry, now, RenewalHistory.Empty, moved);
        Assert.Equal(RenewalAction.Renew, decision.Action);
        Assert.True(decision.AlertDue);
        Assert.Contains("the CA moved its renewal window earlier, to 2026-08-01–2026-08-01", decision.Reason);
    }
}
