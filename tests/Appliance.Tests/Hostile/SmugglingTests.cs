namespace Appliance.Tests.Hostile;

/// <summary>
/// Request smuggling: a message whose length the appliance and the upstream could read differently. Each attempt
/// hides a second request ("GET /smuggled") where a lenient reader would find it; the appliance refuses the message
/// (400) or forwards exactly one request, framed by itself, and the upstream, framing strictly, never sees /smuggled.
/// </summary>
public sealed class SmugglingTests(SmugglingTests.Box box) : IClassFixture<SmugglingTests.Box>
{
    private const string Hidden = "GET /smuggled HTTP/1.1\r\nHost: site.test\r\n\r\n";
    private readonly ApplianceProcess _appliance = box.Appliance;
    private readonly RawUpstream _upstream = box.Upstream.Cleared();

    public sealed class Box : IAsyncLifetime
    {
        public RawUpstream Upstream { get; } = new();
        public ApplianceProcess Appliance { get; private set; } = null!;

        public async ValueTask InitializeAsync() =>
            Appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--site-upstream", Upstream.Url);

        public async ValueTask DisposeAsync()
        {
            await Appliance.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    private static string Chunked(string body) => $"{body.Length:x}\r\n{body}\r\n0\r\n\r\n";

    public static TheoryData<string, string> Attempts => new()
    {
        // CL.TE / TE.CL: the length covers the hidden request; chunked framing ends before it.
        { "CL and TE", $"POST /a HTTP/1.1\r\nHost: site.test\r\nContent-Length: {5 + Hidden.Length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{Hidden}" },
        { "TE and CL", $"POST /a HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n{Chunked("x")}{Hidden}" },
        { "TE chunked, identity", $"POST /a HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: chunked, identity\r\nContent-Length: {5 + Hidden.Length}\r\n\r\n0\r\n\r\n{Hidden}" },
        { "TE identity, chunked with CL", $"POST /a HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: identity, chunked\r\nContent-Length: {5 + Hidden.Length}\r\n\r\n0\r\n\r\n{Hidden}" },
        { "space before the colon", $"POST /a HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding : chunked\r\nContent-Length: {5 + Hidden.Length}\r\n\r\n0\r\n\r\n{Hidden}" },
        { "xchunked", $"POST /a HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: xchunked\r\nContent-Length: {5 + Hidden.Length}\r\n\r\n0\r\n\r\n{Hidden}" },
        { "tab before chunked", $"POST /a HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding:\tchunked\r\nContent-Length: {5 + Hidden.Length}\r\n\r\n0\r\n\r\n{Hidden}" },
        { "two TE fields", $"POST /a HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\nContent-Length: {5 + Hidden.Length}\r\n\r\n0\r\n\r\n{Hidden}" },
        { "obs-fold TE", $"POST /a HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: {5 + Hidden.Length}\r\n\r\n0\r\n\r\n{Hidden}" },
        { "duplicate differing CL", $"POST /a HTTP/1.1\r\nHost: site.test\r\nContent-Length: 0\r\nContent-Length: {Hidden.Length}\r\n\r\n{Hidden}" },
        { "CL list", $"POST /a HTTP/1.1\r\nHost: site.test\r\nContent-Length: 0, {Hidden.Length}\r\n\r\n{Hidden}" },
        { "bare LF line ends", $"POST /a HTTP/1.1\nHost: site.test\nContent-Length: {Hidden.Length}\nTransfer-Encoding: chunked\n\n0\n\n{Hidden}" },
        { "chunk size with a sign", $"POST /a HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: chunked\r\n\r\n+0\r\n\r\n{Hidden}" },
        { "chunk extension with LF", $"POST /a HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: chunked\r\n\r\n0;x\n\r\n{Hidden}" },
        { "CL with a second request in the body", $"POST /a HTTP/1.1\r\nHost: site.test\r\nContent-Length: {Hidden.Length}\r\n\r\n{Hidden}" },
        { "GET with CL body", $"GET /a HTTP/1.1\r\nHost: site.test\r\nContent-Length: {Hidden.Length}\r\n\r\n{Hidden}" },
    };

    [Theory]
    [MemberData(nameof(Attempts))]
    public async Task ASmugglingAttemptIsRefusedOrReachesTheUpstreamAsOneRequest(string name, string attempt)
    {
        var received = await RawTls.ExchangeAsync(_appliance.HttpsPort, attempt, TimeSpan.FromSeconds(2));

        var statuses = RawTls.Statuses(received);
        var failure = $"{name}: the client got [{string.Join(", ", statuses)}]; the upstream: {_upstream.Describe()}";
        Assert.True(statuses.Count == 1, failure);
        Assert.DoesNotContain(_upstream.Requests, r => r.Target.Contains("smuggled"));
        Assert.All(_upstream.Requests, r => Assert.Empty(r.Anomalies));
        if (statuses[0] == 200)
        {
            var request = Assert.Single(_upstream.Requests);
            Assert.Equal("/a", request.Target);
        }
        else
        {
            Assert.Equal(400, statuses[0]);
            Assert.Empty(_upstream.Requests);
        }
    }

    [Fact]
    public async Task ABodyThatHoldsARequestArrivesAsThatBodyNotAsASecondRequest()
    {
        var received = await RawTls.ExchangeAsync(_appliance.HttpsPort, $"POST /a HTTP/1.1\r\nHost: site.test\r\nContent-Length: {Hidden.Length}\r\nConnection: close\r\n\r\n{Hidden}");

        Assert.Equal([200], RawTls.Statuses(received));
        var request = Assert.Single(_upstream.Requests);
        Assert.Equal(Hidden, System.Text.Encoding.ASCII.GetString(request.BodyStart));
    }
}
