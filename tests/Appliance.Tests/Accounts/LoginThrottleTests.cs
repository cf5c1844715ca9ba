using System.Net;
using Appliance.Accounts;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Tests.Accounts;

public sealed class LoginThrottleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 8, 0, 0, TimeSpan.Zero));
    private static readonly IPAddress A = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress B = IPAddress.Parse("192.0.2.2");

    /// <summary>An attempt let through and failed; false when the throttle refused it.</summary>
    private static bool Fail(LoginThrottle throttle, string username, IPAddress address)
    {
        if (throttle.Begin(username, address) is not null) return false;
        throttle.Failed(username, address);
        return true;
    }

    [Fact]
    public void AnAddressGetsFiveAttemptsAtOnceThenOneEveryTenSeconds()
    {
        var throttle = new LoginThrottle(_time);
        for (var i = 0; i < 5; i++) Assert.True(Fail(throttle, $"user{i}", A));
        var refused = throttle.Begin("user5", A);
        Assert.NotNull(refused);
        Assert.Equal(TimeSpan.FromSeconds(10), refused.RetryAfter);
        Assert.Equal("Too many login attempts from your address (at most 5 at once, then one every 10 seconds); try again in 10 seconds.", refused.Message);

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(TimeSpan.FromSeconds(6), throttle.Begin("user5", A)!.RetryAfter);
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.True(Fail(throttle, "user5", A));
        Assert.False(Fail(throttle, "user6", A));
        Assert.True(Fail(throttle, "user6", B)); // another address has its own bucket
    }

    [Fact]
    public void AnAddressHasOneLoginCheckedAtATime()
    {
        var throttle = new LoginThrottle(_time);
        Assert.Null(throttle.Begin("admin", A));
        var refused = throttle.Begin("other", A);
        Assert.Equal(new LoginRefusal("Another login from your address is being checked; try again in a second.", TimeSpan.FromSeconds(1)), refused);
        Assert.Null(throttle.Begin("other", B));
        throttle.Abandoned(A);
        Assert.Null(throttle.Begin("other", A));
    }

    [Fact]
    public void ASuccessfulLoginGivesItsAttemptBack()
    {
        var throttle = new LoginThrottle(_time);
        for (var i = 0; i < 50; i++)
        {
            Assert.Null(throttle.Begin("admin", A));
            throttle.Succeeded("admin", A);
        }
    }

    [Fact]
    public void FiveFailuresRefuseThatUsernameFromThatAddressOnlyForTheRestOfTheWindow()
    {
        var throttle = new LoginThrottle(_time);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(Fail(throttle, "admin", A));
            _time.Advance(TimeSpan.FromSeconds(10)); // the address's bucket refills; only the pair's failures count here
        }
        var refused = throttle.Begin("ADMIN", A);
        Assert.NotNull(refused);
        Assert.Equal(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(50), refused.RetryAfter);
        Assert.StartsWith("Too many failed logins for this username from your address (5 within 5 minutes); try again in 250 seconds.", refused.Message);
        Assert.True(Fail(throttle, "admin", B));
        Assert.True(Fail(throttle, "other", A));

        _time.Advance(TimeSpan.FromSeconds(250));
        Assert.Null(throttle.Begin("admin", A));
    }

    [Fact]
    public void TheFailureMapKeepsTheNewest10000PairsAndForgetsThemAfterTheWindow()
    {
        var throttle = new LoginThrottle(_time);
        for (var i = 0; i < 20_000; i++)
        {
            var address = new IPAddress(BitConverter.GetBytes(0x0A000000 + i).Reverse().ToArray());
            for (var f = 0; f < 5; f++) throttle.Failed($"user{i}", address);
        }
        Assert.Equal(10_000, throttle.TrackedFailures);
        Assert.Null(throttle.Begin("user0", IPAddress.Parse("10.0.0.0"))); // the oldest pair was dropped
        Assert.NotNull(throttle.Begin("user19999", IPAddress.Parse("10.0.78.31"))); // the newest is still refused

        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, throttle.TrackedFailures);
    }

    [Fact]
    public void TheAddressMapHoldsAtMost10000AddressesAndForgetsFullBuckets()
    {
        var throttle = new LoginThrottle(_time);
        for (var i = 0; i < 30_000; i++)
            throttle.Begin("x", new IPAddress(BitConverter.GetBytes(0x0A000000 + i).Reverse().ToArray()));
        Assert.Equal(10_000, throttle.TrackedAddresses);
        _time.Advance(TimeSpan.FromSeconds(50)); // time for an empty bucket to fill again
        Assert.Equal(0, throttle.TrackedAddresses);
    }

    [Fact]
    public void AnIpv6Slash64IsOneClientAndIpv4MappedAddressesAreIpv4()
    {
        var throttle = new LoginThrottle(_time);
        for (var i = 1; i <= 5; i++) Assert.True(Fail(throttle, $"x{i}", IPAddress.Parse($"2001:db8:1:2::{i:x}")));
        Assert.False(Fail(throttle, "x", IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        Assert.True(Fail(throttle, "x", IPAddress.Parse("2001:db8:1:3::1")));

        for (var i = 0; i < 5; i++) Assert.True(Fail(throttle, $"x{i}", IPAddress.Parse("198.51.100.7")));
        Assert.False(Fail(throttle, "x", IPAddress.Parse("::ffff:198.51.100.7")));
        Assert.Equal(AddressGroup.Of(IPAddress.Parse("198.51.100.7")), AddressGroup.Of(IPAddress.Parse("::ffff:198.51.100.7")));
        Assert.NotEqual(AddressGroup.Of(IPAddress.Parse("::")), AddressGroup.Of(IPAddress.Parse("0.0.0.0")));
    }
}
