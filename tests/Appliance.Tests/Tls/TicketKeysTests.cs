using Appliance.Tls;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Tests.Tls;

/// <summary>The ticket key ring's rotation and retirement on a fake clock (the handshakes are tested in <see cref="SessionResumptionTests"/>).</summary>
public sealed class TicketKeysTests
{
    private static readonly TimeSpan Rotation = TimeSpan.FromHours(12);
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(2);

    [Fact]
    public void TheCurrentKeySealsUntilTheRotationThenARetiredKeyStillOpensUntilItsTicketsHaveExpired()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-07T00:00:00Z"));
        var keys = new TicketKeys(time, Rotation, Lifetime);
        var first = keys.Current;
        Assert.Equal((TicketKeys.NameLength, TicketKeys.AesKeyLength, TicketKeys.HmacKeyLength), (first.Name.Length, first.Aes.Length, first.Hmac.Length));
        Assert.Equal((first, true), keys.Find(first.Name));

        time.Advance(Rotation - TimeSpan.FromSeconds(1));
        Assert.Same(first, keys.Current);

        time.Advance(TimeSpan.FromSeconds(1));
        var second = keys.Current;
        Assert.NotEqual(first.Name, second.Name);
        Assert.NotEqual(first.Aes, second.Aes);
        Assert.Equal(2, keys.Count);
        var retired = keys.Find(first.Name);
        Assert.NotNull(retired);
        Assert.False(retired.Value.IsCurrent); // libssl is told to renew such a ticket
        Assert.Equal(first.Aes, retired.Value.Key.Aes);

        time.Advance(Lifetime - TimeSpan.FromSeconds(1));
        Assert.NotNull(keys.Find(first.Name));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(keys.Find(first.Name));
        Assert.Equal(1, keys.Count);
        Assert.Equal((second, true), keys.Find(second.Name));
    }

    [Fact]
    public void AfterALongIdleOneNewKeyTakesOverAndTheOldOneIsKeptForOneLifetime()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-07T00:00:00Z"));
        var keys = new TicketKeys(time, Rotation, Lifetime);
        var first = keys.Current;
        time.Advance(TimeSpan.FromDays(3));
        Assert.NotEqual(first.Name, keys.Current.Name);
        Assert.Equal(2, keys.Count);
        time.Advance(Lifetime);
        Assert.Equal(1, keys.Count);
    }

    [Fact]
    public void AnUnknownNameFindsNothingAndTwoRingsShareNoKey()
    {
        var time = new FakeTimeProvider();
        var one = new TicketKeys(time, Rotation, Lifetime);
        var other = new TicketKeys(time, Rotation, Lifetime);
        Assert.Null(one.Find(other.Current.Name));
        Assert.Null(one.Find(new byte[TicketKeys.NameLength]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TicketKeys(time, TimeSpan.Zero, Lifetime));
    }
}
