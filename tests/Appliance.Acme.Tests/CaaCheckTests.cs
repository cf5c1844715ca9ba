using System.Net;
using Appliance.Acme.Caa;
using Appliance.Acme.Tests.Infrastructure;

namespace Appliance.Acme.Tests;

/// <summary>The CAA pre-check over the wire: our DNS client asks the test DNS responder, climbing to parents and chasing aliases.</summary>
public sealed class CaaCheckTests : IDisposable
{
    private static readonly string[] Pebble = ["pebble.test"];
    private readonly DnsResponder _dns = new();

    private CaaCheck Check() => new(new DnsClient(new IPEndPoint(IPAddress.Loopback, _dns.Port)));

    public void Dispose() => _dns.Dispose();

    [Fact]
    public async Task ANameWithoutCaaRecordsUpToTheTopIsAllowedAfterAskingEachParent()
    {
        var result = await Check().CheckAsync("www.shop.example.test", Pebble, CancellationToken.None);
        Assert.Equal(CaaCheckOutcome.Allowed, result.Outcome);
        Assert.Equal(["www.shop.example.test", "shop.example.test", "example.test", "test"],
            _dns.Log.Where(q => q.Type == DnsType.Caa).Select(q => q.Name));
    }

    [Fact]
    public async Task ARecordAllowingTheCaAllowsIt()
    {
        _dns.AddCaa("allowed.example.test", "issue", "pebble.test");
        Assert.Equal(CaaCheckResult.Allowed, await Check().CheckAsync("allowed.example.test", Pebble, CancellationToken.None));
    }

    [Fact]
    public async Task ARecordForbiddingTheCaRefusesInWords()
    {
        _dns.AddCaa("forbidden.example.test", "issue", "letsencrypt.org");
        var result = await Check().CheckAsync("forbidden.example.test", Pebble, CancellationToken.None);
        Assert.Equal(CaaCheckOutcome.Refused, result.Outcome);
        Assert.Equal("The CAA records of forbidden.example.test allow only letsencrypt.org to issue certificates, not this ACME server (pebble.test). "
            + "Add the DNS record forbidden.example.test. CAA 0 issue \"pebble.test\", or request the certificate from a CA the records allow.", result.Message);
    }

    [Fact]
    public async Task TheParentsRecordsApplyAndTheClosestNonEmptySetWins()
    {
        _dns.AddCaa("example.test", "issue", "letsencrypt.org");
        _dns.AddCaa("shop.example.test", "issue", "pebble.test");
        var check = Check();
        Assert.Equal(CaaCheckOutcome.Refused, (await check.CheckAsync("www.example.test", Pebble, CancellationToken.None)).Outcome);
        Assert.Equal(CaaCheckOutcome.Allowed, (await check.CheckAsync("www.shop.example.test", Pebble, CancellationToken.None)).Outcome);
        var set = await check.RelevantSetAsync("a.b.example.test", CancellationToken.None);
        Assert.Equal("example.test", set.FoundAt);
    }

    [Fact]
    public async Task IssuewildAppliesToWildcardNamesOnly()
    {
        _dns.AddCaa("wild.example.test", "issue", "pebble.test").AddCaa("wild.example.test", "issuewild", ";");
        var check = Check();
        Assert.Equal(CaaCheckOutcome.Allowed, (await check.CheckAsync("wild.example.test", Pebble, CancellationToken.None)).Outcome);
        var wildcard = await check.CheckAsync("*.wild.example.test", Pebble, CancellationToken.None);
        Assert.Equal(CaaCheckOutcome.Refused, wildcard.Outcome);
        Assert.StartsWith("The CAA records of wild.example.test allow no CA at all to issue wildcard certificates", wildcard.Message);
    }

    [Fact]
    public async Task AnUnknownCriticalPropertyRefuses()
    {
        _dns.AddCaa("critical.example.test", "issue", "pebble.test").AddCaa("critical.example.test", "future", "x", flags: 128);
        var result = await Check().CheckAsync("critical.example.test", Pebble, CancellationToken.None);
        Assert.Equal(CaaCheckOutcome.Refused, result.Outcome);
        Assert.Contains("critical property 'future'", result.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnAliasIsFollowedToItsTargetsRecordsWhetherTheResolverChasesItOrNot(bool resolverChases)
    {
        _dns.ChaseAliases = resolverChases;
        _dns.AddCname("www.alias.test", "edge.cdn.test").AddCname("edge.cdn.test", "pool.cdn.test").AddCaa("pool.cdn.test", "issue", "letsencrypt.org");
        var result = await Check().CheckAsync("www.alias.test", Pebble, CancellationToken.None);
        Assert.Equal(CaaCheckOutcome.Refused, result.Outcome);
        Assert.StartsWith("The CAA records of www.alias.test allow only letsencrypt.org", result.Message);
    }

    [Fact]
    public async Task ATruncatedUdpAnswerIsAskedAgainOverTcp()
    {
        for (var i = 0; i < 12; i++) _dns.AddCaa("big.example.test", "issue", $"ca{i}.example.net; accounturi=https://ca{i}.example.net/acme/acct/0123456789");
        _dns.AddCaa("big.example.test", "issue", "pebble.test");
        var set = await Check().RelevantSetAsync("big.example.test", CancellationToken.None);
        Assert.Equal(13, set.Records.Count);
        Assert.Equal([false, true], _dns.Log.Where(q => q.Name == "big.example.test").Select(q => q.Tcp));
        Assert.Equal(CaaCheckOutcome.Allowed, (await Check().CheckAsync("big.example.test", Pebble, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task WithoutCaaIdentitiesInTheDirectoryTheCheckIsSkippedWithANote()
    {
        _dns.AddCaa("example.test", "issue", "letsencrypt.org");
        var result = await Check().CheckAsync("www.example.test", null, CancellationToken.None);
        Assert.Equal(CaaCheckOutcome.NotChecked, result.Outcome);
        Assert.Equal("The CAA records of www.example.test were not checked: the ACME server's directory names no CAA identities (meta.caaIdentities). "
            + "The CA checks them itself when it validates the name.", result.Message);
        Assert.Empty(_dns.Log);
    }

    [Fact]
    public async Task IpAddressesHaveNoCaa()
    {
        Assert.Equal(CaaCheckOutcome.Allowed, (await Check().CheckAsync("127.0.0.1", Pebble, CancellationToken.None)).Outcome);
        Assert.Empty(_dns.Log);
    }

    [Fact]
    public async Task ADnsServerThatDoesNotAnswerGivesANoteNotARefusal()
    {
        using var silent = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var check = new CaaCheck(new DnsClient((IPEndPoint)silent.Client.LocalEndPoint!) { Timeout = TimeSpan.FromMilliseconds(300) });
        var result = await check.CheckAsync("www.example.test", Pebble, CancellationToken.None);
        Assert.Equal(CaaCheckOutcome.NotChecked, result.Outcome);
        Assert.Equal($"The CAA records of www.example.test could not be read: The DNS server {silent.Client.LocalEndPoint} did not answer the question for www.example.test within 1 s. "
            + "The CA checks them itself when it validates the name.", result.Message);
    }
}
