using Appliance.Tls.Ocsp;

namespace Appliance.Tests.Ocsp;

/// <summary>The refresh decision, on the schedule's source linked into this project (a pure function of state and time).</summary>
public sealed class OcspScheduleTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly Uri Responder = new("http://127.0.0.1:9/");

    private static OcspState Fetched(DateTimeOffset at, DateTimeOffset thisUpdate, DateTimeOffset? nextUpdate) =>
        OcspState.New(Responder, "issuer") with { Staple = new OcspResponse([1], thisUpdate, nextUpdate), LastAttempt = at };

    [Fact]
    public void ACertificateNeverAskedForIsFetchedAtOnce() =>
        Assert.Equal(Now, OcspSchedule.NextFetch(OcspState.New(Responder, "issuer"), Now));

    [Fact]
    public void AResponseIsRefreshedWhenHalfOfItsValidityHasPassed() =>
        Assert.Equal(Now.AddHours(12), OcspSchedule.NextFetch(Fetched(Now, Now, Now.AddDays(1)), Now));

    [Fact]
    public void AResponseWithoutNextUpdateIsRefreshedHourly() =>
        Assert.Equal(Now.AddHours(1), OcspSchedule.NextFetch(Fetched(Now, Now.AddMinutes(-1), null), Now));

    [Fact]
    public void AnOldResponseIsNotFetchedAgainSoonerThanFiveMinutesAfterTheLastFetch() =>
        Assert.Equal(Now.AddMinutes(5), OcspSchedule.NextFetch(Fetched(Now, Now.AddDays(-3), Now.AddDays(1)), Now));

    [Theory]
    [InlineData(1, 30)]
    [InlineData(2, 60)]
    [InlineData(5, 480)]
    [InlineData(8, 3600)]
    [InlineData(40, 3600)]
    public void FailuresAreRetriedAfterThirtySecondsDoublingUpToAnHour(int failures, int seconds)
    {
        var state = OcspState.New(Responder, "issuer") with { Failures = failures, LastAttempt = Now, LastError = "responder unreachable" };
        Assert.Equal(Now.AddSeconds(seconds), OcspSchedule.NextFetch(state, Now));
    }
}
