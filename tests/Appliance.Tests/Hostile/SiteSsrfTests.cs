namespace Appliance.Tests.Hostile;

/// <summary>
/// The site's upstream authority is fixed: whatever the request target says, the request goes to the configured
/// upstream or is refused; a second HTTP server on loopback (the "secret" one) is never reached.
/// </summary>
public sealed class SiteSsrfTests(SiteSsrfTests.Box box) : IClassFixture<SiteSsrfTests.Box>
{
    private const string Secret = "THE SECRET BODY";
    private readonly ApplianceProcess _appliance = box.Appliance;
    private readonly RawUpstream _upstream = box.Upstream.Cleared();
    private readonly RawUpstream _secret = box.SecretServer;

    /// <summary>One appliance forwarding to the upstream, and the secret server beside them on loopback.</summary>
    public sealed class Box : IAsyncLifetime
    {
        public RawUpstream Upstream { get; } = new();
        public RawUpstream SecretServer { get; } = new(Secret);
        public ApplianceProcess Appliance { get; private set; } = null!;

        public async ValueTask InitializeAsync() =>
            Appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--site-upstream", Upstream.Url);

        public async ValueTask DisposeAsync()
        {
            await Appliance.DisposeAsync();
            await Upstream.DisposeAsync();
            await SecretServer.DisposeAsync();
        }
    }

    public static TheoryData<string> Targets => new()
    {
        "//127.0.0.1:PORT/secret",
        "/\\127.0.0.1:PORT/secret",
        "\\\\127.0.0.1:PORT/secret",
        "http://127.0.0.1:PORT/secret",
        "https://127.0.0.1:PORT/secret",
        "%2F%2F127.0.0.1:PORT/secret",
        "/%2F%2F127.0.0.1:PORT/secret",
        "/%2f127.0.0.1:PORT/secret",
        "/..//127.0.0.1:PORT/secret",
        "/../../secret",
        "/./..//127.0.0.1:PORT/secret",
        "//[::1]:PORT/",
        "http://[::1]:PORT/",
        "/@127.0.0.1:PORT/secret",
        "//user@127.0.0.1:PORT/secret",
        "http://user@127.0.0.1:PORT/secret",
        "@127.0.0.1:PORT/secret",
        "127.0.0.1:PORT",
        "*",
    };

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task NoRequestTargetReachesAServerOtherThanTheConfiguredUpstream(string target)
    {
        target = target.Replace("PORT", _secret.Port.ToString());
        var received = await RawTls.ExchangeAsync(_appliance.HttpsPort, $"GET {target} HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");

        Assert.DoesNotContain(Secret, received);
        Assert.Equal(0, _secret.Connections);
        var status = Assert.Single(RawTls.Statuses(received));
        if (status == 200)
        {
            // Forwarded: to the configured upstream, with the whole target as a path on it.
            var request = Assert.Single(_upstream.Requests);
            Assert.StartsWith("/", request.Target);
            Assert.Contains(RawUpstream.BodyPrefix, received);
        }
        else
        {
            Assert.InRange(status, 400, 499);
            Assert.Empty(_upstream.Requests);
        }
    }

    [Fact]
    public async Task AConnectTunnelIsRefusedAndReachesNothing()
    {
        var received = await RawTls.ExchangeAsync(_appliance.HttpsPort, $"CONNECT 127.0.0.1:{_secret.Port} HTTP/1.1\r\nHost: 127.0.0.1:{_secret.Port}\r\n\r\n");

        Assert.InRange(Assert.Single(RawTls.Statuses(received)), 400, 405);
        Assert.Equal(0, _secret.Connections);
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData("--http1.1")]
    [InlineData("--http2")]
    public async Task TheIssuesCurlReproductionGetsTheUpstreamNotTheSecretServer(string protocol)
    {
        // curl -sk --path-as-is 'https://BOX//127.0.0.1:PORT/secret.txt', and the same with --request-target (HTTP/2: the :path).
        var viaPath = await RawTls.CurlAsync(protocol, "--path-as-is", $"https://127.0.0.1:{_appliance.HttpsPort}//127.0.0.1:{_secret.Port}/secret.txt");
        var viaTarget = await RawTls.CurlAsync(protocol, "--request-target", $"//127.0.0.1:{_secret.Port}/secret.txt", $"https://127.0.0.1:{_appliance.HttpsPort}/");

        Assert.Equal(200, viaPath.Status);
        Assert.Equal(200, viaTarget.Status);
        Assert.DoesNotContain(Secret, viaPath.Body + viaTarget.Body);
        Assert.Equal(0, _secret.Connections);
        Assert.All(_upstream.Requests, r => Assert.Equal($"//127.0.0.1:{_secret.Port}/secret.txt", r.Target));
        Assert.Equal(2, _upstream.Requests.Count);
    }
}
