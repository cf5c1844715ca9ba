using Appliance.Tests.Hostile;

namespace Appliance.Tests.Tls;

/// <summary>
/// HTTP/2 by ALPN against the published binary: curl and h2load (nghttp2) negotiate h2 for /appliance and the site,
/// a client that offers only http/1.1 gets HTTP/1.1, and the site's upstream keeps receiving HTTP/1.1.
/// </summary>
/// <remarks>The fixture is the smuggling tests' box: an appliance whose site is a raw HTTP/1.1 upstream that records what it receives.</remarks>
public sealed class Http2Tests(SmugglingTests.Box fixture) : IClassFixture<SmugglingTests.Box>
{
    private string Url(string path) => $"https://127.0.0.1:{fixture.Appliance.HttpsPort}{path}";

    /// <summary>curl's HTTP version and status for one GET, then the body.</summary>
    private string Curl(string version, string path) =>
        ExternalTools.Run("curl", "curl", "-sk", version, "-w", "\n%{http_version} %{http_code}", Url(path));

    [Fact]
    public void CurlNegotiatesHttp2ForTheAdminPagesAndHttp11WhenItOffersOnlyThat()
    {
        Assert.EndsWith("\n2 200", Curl("--http2", "/appliance/login"));
        Assert.EndsWith("\n1.1 200", Curl("--http1.1", "/appliance/login"));
    }

    [Fact]
    public void ASiteRequestOverHttp2ReachesTheUpstreamAsHttp11()
    {
        var answer = Curl("--http2", "/shop/item?x=1");
        Assert.EndsWith("\n2 200", answer);
        Assert.StartsWith(RawUpstream.BodyPrefix, answer);
        var request = Assert.Single(fixture.Upstream.Requests, r => r.Target == "/shop/item?x=1");
        Assert.Equal("GET", request.Method);
        Assert.Empty(request.Anomalies); // among them: a request line other than 'GET /shop/item?x=1 HTTP/1.1'
    }

    [Fact]
    public void H2loadCompletesEveryRequestOnMultiplexedStreams()
    {
        var output = ExternalTools.Run("h2load", "nghttp2-client", "-n", "400", "-c", "2", "-m", "32", Url("/appliance/login"));
        Assert.Contains("Application protocol: h2", output);
        Assert.Contains("requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed, 0 errored, 0 timeout", output);
        Assert.Contains("status codes: 400 2xx", output);
    }
}
