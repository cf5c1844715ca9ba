using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace Appliance.Tests.Hostile;

/// <summary>
/// What a forwarded site request carries to the upstream and back: the appliance's own forwarding headers in place of
/// the client's, no fields named in Connection, no appliance cookies either way; bodies stream up to --site-max-body;
/// WebSockets pass; a silent upstream answers 504.
/// </summary>
public sealed class SiteForwardingTests(SiteForwardingTests.Box box) : IClassFixture<SiteForwardingTests.Box>
{
    private readonly ApplianceProcess _appliance = box.Appliance;
    private readonly RawUpstream _upstream = box.Upstream.Cleared();

    /// <summary>One appliance forwarding to a recording upstream with a 1 MiB body limit.</summary>
    public sealed class Box : IAsyncLifetime
    {
        public RawUpstream Upstream { get; } = new();
        public ApplianceProcess Appliance { get; private set; } = null!;

        public async ValueTask InitializeAsync() =>
            Appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--site-upstream", Upstream.Url, "--site-max-body", "1M");

        public async ValueTask DisposeAsync()
        {
            await Appliance.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    [Fact]
    public async Task SpoofedForwardingHeadersAndFieldsNamedInConnectionNeverReachTheUpstreamButOursDo()
    {
        var received = await RawTls.ExchangeAsync(_appliance.HttpsPort,
            "GET /who?x=1 HTTP/1.1\r\nHost: site.test\r\n" +
            "Forwarded: for=203.0.113.9;proto=http;host=evil.test\r\n" +
            "X-Forwarded-For: 203.0.113.9\r\nx-forwarded-proto: http\r\nX-Forwarded-Host: evil.test\r\nX-Forwarded-Port: 80\r\n" +
            "X_Forwarded_For: 203.0.113.9\r\nx_forwarded_host: evil.test\r\n" +
            "X-Real-IP: 203.0.113.9\r\nX-Client-IP: 203.0.113.9\r\nTrue-Client-IP: 203.0.113.9\r\nX-Original-URL: /admin\r\nX-Original-For: 203.0.113.9\r\n" +
            "Connection: X-Secret, X-Forwarded-For\r\nX-Secret: s3cret\r\nX-Kept: yes\r\n" +
            "Cookie: appliance_session=stolen; site=1; __Host-appliance_antiforgery=t; __Secure-Appliance_notice=n; other=2\r\n\r\n");

        Assert.Equal([200], RawTls.Statuses(received));
        var request = Assert.Single(_upstream.Requests);
        Assert.Equal("/who?x=1", request.Target);
        string[] gone = ["X-Real-IP", "X-Client-IP", "True-Client-IP", "X-Original-URL", "X-Original-For", "X_Forwarded_For", "x_forwarded_host", "X-Forwarded-Port", "X-Secret"];
        Assert.All(gone, name => Assert.False(request.Has(name), $"{name} reached the upstream: {string.Join(" | ", request.Headers)}"));
        Assert.Equal("127.0.0.1", request.One("X-Forwarded-For"));
        Assert.Equal("https", request.One("X-Forwarded-Proto"));
        Assert.Equal("site.test", request.One("X-Forwarded-Host"));
        Assert.Equal("for=127.0.0.1;proto=https;host=site.test", request.One("Forwarded"));
        Assert.Equal("site.test", request.One("Host"));
        Assert.Equal("yes", request.One("X-Kept"));
        Assert.Equal("site=1; other=2", request.One("Cookie"));
        Assert.Empty(request.Anomalies);
    }

    [Theory]
    [InlineData("/a%2Fb?q=%252F", "/a%2Fb?q=%252F")]
    [InlineData("/sp%20ace/%C3%A9", "/sp%20ace/%C3%A9")]
    [InlineData("/a/../b/./c", "/b/c")]
    [InlineData("/\\x", "/%5Cx")]
    public async Task ThePathReachesTheUpstreamAsThePathTheApplianceRouted(string target, string forwarded)
    {
        var received = await RawTls.ExchangeAsync(_appliance.HttpsPort, $"GET {target} HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");

        Assert.Equal([200], RawTls.Statuses(received));
        Assert.Equal(forwarded, Assert.Single(_upstream.Requests).Target);
    }

    [Fact]
    public async Task AnIPv6ClientIsNamedBracketedAndQuotedInForwarded()
    {
        await using var upstream = new RawUpstream();
        // Dual-stack, so the appliance's readiness check on 127.0.0.1 works; the client comes from ::1.
        await using var appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--bind", "::", "--site-upstream", upstream.Url);

        var received = await RawTls.ExchangeAsync(appliance.HttpsPort, "GET / HTTP/1.1\r\nHost: [::1]:8443\r\nConnection: close\r\n\r\n", address: IPAddress.IPv6Loopback);

        Assert.Equal([200], RawTls.Statuses(received));
        var request = Assert.Single(upstream.Requests);
        Assert.Equal("::1", request.One("X-Forwarded-For"));
        Assert.Equal("[::1]:8443", request.One("X-Forwarded-Host"));
        Assert.Equal("for=\"[::1]\";proto=https;host=\"[::1]:8443\"", request.One("Forwarded"));
    }

    [Fact]
    public async Task UpstreamCookiesForTheApplianceAreDroppedAndTheSitesOwnPass()
    {
        _upstream.AnswerHeaders =
        [
            "Set-Cookie: site=1; Path=/; Secure",
            "Set-Cookie: shop=2; Path=/shop",
            "Set-Cookie: near=3; Path=/appliances",
            "Set-Cookie: a=1; Path=/appliance",
            "Set-Cookie: b=1; Path=/appliance/api/v1; HttpOnly",
            "Set-Cookie: c=1; path=/APPLIANCE",
            "Set-Cookie: d=1; Path=/%61ppliance/",
            "Set-Cookie: appliance_session=fixated; Path=/",
            "Set-Cookie: __Host-appliance_session=fixated; Path=/; Secure",
            "Set-Cookie: __Secure-appliance_antiforgery=forged; Path=/; Secure",
            "Set-Cookie: Appliance_Notice=x",
            "Set-Cookie: appliance_session",
        ];
        try
        {
            var (status, _, headers) = await RawTls.CurlAsync($"https://127.0.0.1:{_appliance.HttpsPort}/");

            Assert.Equal(200, status);
            var cookies = headers.Split("\r\n").Where(l => l.StartsWith("set-cookie:", StringComparison.OrdinalIgnoreCase))
                .Select(l => l["set-cookie:".Length..].Trim().Split(';')[0]).ToList();
            Assert.Equal(["site=1", "shop=2", "near=3"], cookies);
        }
        finally
        {
            _upstream.AnswerHeaders = [];
        }
    }

    [Fact]
    public async Task AHundredMebibyteUploadPassesThroughIntactWithItsOwnLimit()
    {
        await using var upstream = new RawUpstream();
        await using var appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--site-upstream", upstream.Url);
        var file = Path.GetTempFileName();
        try
        {
            var data = new byte[100 << 20];
            Random.Shared.NextBytes(data);
            await File.WriteAllBytesAsync(file, data);
            var sha256 = Convert.ToHexStringLower(SHA256.HashData(data));

            var (status, body, _) = await RawTls.CurlAsync("--data-binary", "@" + file, "-H", "Content-Type: application/octet-stream",
                $"https://127.0.0.1:{appliance.HttpsPort}/upload");

            Assert.Equal(200, status);
            var request = Assert.Single(upstream.Requests);
            Assert.Equal(100L << 20, request.BodyLength);
            Assert.Equal(sha256, request.BodySha256);
            Assert.Equal($"{RawUpstream.BodyPrefix}POST /upload ({100 << 20} bytes, sha256 {sha256})", body);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("--http1.1")]
    [InlineData("--http2")]
    public async Task ABodyOverTheSiteLimitAnswers413BeforeAnyUpstreamConnection(string protocol)
    {
        var connections = _upstream.Connections;
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, new byte[(1 << 20) + 1]);
            var (status, body, _) = await RawTls.CurlAsync(protocol, "--data-binary", "@" + file, $"https://127.0.0.1:{_appliance.HttpsPort}/upload");

            Assert.Equal(413, status);
            Assert.Equal("The request body (1048577 bytes) is larger than this site accepts (1048576 bytes).", body);
            Assert.Equal(connections, _upstream.Connections);
            Assert.Empty(_upstream.Requests);

            // Exactly the limit passes.
            await File.WriteAllBytesAsync(file, new byte[1 << 20]);
            Assert.Equal(200, (await RawTls.CurlAsync(protocol, "--data-binary", "@" + file, $"https://127.0.0.1:{_appliance.HttpsPort}/upload")).Status);
            Assert.Equal(1L << 20, Assert.Single(_upstream.Requests).BodyLength);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>HTTP/1.1: chunked; HTTP/2: DATA frames without a content-length (curl drops Transfer-Encoding there).</summary>
    [Theory]
    [InlineData("--http1.1")]
    [InlineData("--http2")]
    public async Task AChunkedBodyThatGrowsOverTheSiteLimitAnswers413AndNeverArrivesWhole(string protocol)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, new byte[2 << 20]);
            var (status, _, _) = await RawTls.CurlAsync(protocol, "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + file, $"https://127.0.0.1:{_appliance.HttpsPort}/upload");

            Assert.Equal(413, status);
            Assert.Empty(_upstream.Requests);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task TheApplianceKeepsItsOwn64KiBLimitForJson()
    {
        using var client = _appliance.Client();
        using var response = await client.PostAsync("session", new StringContent("{\"username\":\"" + new string('a', 100_000) + "\"}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task AWebSocketEchoPassesThroughTheAppliance()
    {
        using var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{_appliance.HttpsPort}/echo"), timeout.Token);

        foreach (var message in new[] { "hello through the appliance", new string('w', 100_000) })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
            var echoed = new MemoryStream();
            var buffer = new byte[16 * 1024];
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
                echoed.Write(buffer, 0, result.Count);
            } while (!result.EndOfMessage);
            Assert.Equal(message, Encoding.UTF8.GetString(echoed.ToArray()));
        }
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);

        var request = Assert.Single(_upstream.Requests);
        Assert.Equal("/echo", request.Target);
        Assert.Equal("websocket", request.One("Upgrade"));
    }

    [Fact]
    public async Task AnUpstreamThatNeverAnswersGets504AfterTheSiteTimeout()
    {
        await using var upstream = new RawUpstream { Silent = true };
        await using var appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--site-upstream", upstream.Url, "--site-timeout", "2");

        var started = DateTime.UtcNow;
        var (status, body, _) = await RawTls.CurlAsync($"https://127.0.0.1:{appliance.HttpsPort}/slow");

        Assert.Equal(504, status);
        Assert.Equal("The site's upstream server did not answer within 2 seconds.", body);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(30));
        Assert.Single(upstream.Requests);
    }
}
