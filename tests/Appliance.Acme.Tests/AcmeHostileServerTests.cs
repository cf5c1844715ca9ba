using System.Diagnostics;
using Appliance.Acme.Protocol;
using Appliance.Acme.Tests.Infrastructure;

namespace Appliance.Acme.Tests;

/// <summary>
/// The client against a hostile HTTPS server on loopback (real TLS, trusted through the client's CA file as a private
/// ACME CA would be): answers that announce or stream more than the body cap, answers that trickle, and a directory
/// that would move the exchange to plain http. Each is refused in words, within the request timeout.
/// </summary>
public sealed class AcmeHostileServerTests : IDisposable
{
    private readonly PebbleTls _tls = new();
    private readonly HostileHttpsServer _server;
    private readonly HttpClient _http;

    public AcmeHostileServerTests()
    {
        _server = new HostileHttpsServer(_tls);
        _http = AcmeHttp.CreateClient(_tls.CaPath);
    }

    public void Dispose()
    {
        _http.Dispose();
        _server.Dispose();
        _tls.Dispose();
    }

    private AcmeClient Client(TimeSpan? timeout = null) =>
        new(_http, new Uri(_server.Url("/dir")), AcmeAccountKey.Create(), null, TimeProvider.System) { RequestTimeout = timeout ?? TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task AnHttpsDirectoryNamingAPlainHttpNewNonceIsRefusedBeforeAnythingIsSentThere()
    {
        _server.On("GET /dir", HostileHttpsServer.Json($$"""
            {"newNonce":"http://127.0.0.1:{{_server.Port}}/nonce","newAccount":"{{_server.Url("/acct")}}","newOrder":"{{_server.Url("/order")}}"}
            """));
        var error = await Assert.ThrowsAsync<AcmeException>(() => Client().RegisterAsync(null, null));
        Assert.Equal(AcmeFailure.MalformedResponse, error.Reason);
        Assert.Equal($"The ACME server {_server.Url("/dir")} handed out the directory's newNonce URL 'http://127.0.0.1:{_server.Port}/nonce', which the "
            + "appliance refuses: it is plain http while the directory is https, so anyone on the path could read and change the exchange. "
            + "The CA is misconfigured or its answer was tampered with; check the directory URL, or contact the CA.", error.Message);
        Assert.Equal(["GET /dir"], _server.Requests);
    }

    [Fact]
    public async Task AnAnswerAnnouncingMoreThanOneMebibyteIsRefusedWithoutReadingIt()
    {
        _server.On("GET /dir", async (stream, token) =>
        {
            await HostileHttpsServer.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n{", token);
            await Task.Delay(Timeout.Infinite, token); // never sends the rest
        });
        await AssertRefusedAsTooLarge("announced 2147483648 bytes");
    }

    /// <summary>The directory read fails with the body cap's words, well before any timeout.</summary>
    private async Task AssertRefusedAsTooLarge(string what)
    {
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<AcmeException>(() => Client().GetDirectoryAsync());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Equal(AcmeFailure.MalformedResponse, error.Reason);
        Assert.Equal($"The ACME server's answer to {_server.Url("/dir")} {what}; the appliance reads at most 1048576 bytes (1 MiB) "
            + "and stopped. The CA is failing or this is not an ACME server; try again later.", error.Message);
    }

    [Fact]
    public async Task AnEndlessChunkedAnswerIsCutOffAfterOneMebibyte()
    {
        _server.On("GET /dir", async (stream, token) =>
        {
            await HostileHttpsServer.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", token);
            var chunk = System.Text.Encoding.ASCII.GetBytes("4000\r\n" + new string(' ', 0x4000) + "\r\n");
            while (true) await stream.WriteAsync(chunk, token); // until the client hangs up
        });
        await AssertRefusedAsTooLarge("sent more than 1048576 bytes");
    }

    [Fact]
    public async Task AnAnswerThatTricklesIsCutOffAtTheRequestTimeout()
    {
        _server.On("GET /dir", async (stream, token) =>
        {
            await HostileHttpsServer.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", token);
            while (true)
            {
                await HostileHttpsServer.WriteAsync(stream, " ", token);
                await stream.FlushAsync(token);
                await Task.Delay(100, token);
            }
        });
        // The first TLS connection of the process pays for JIT and a cold handshake: not the body timeout's business.
        _server.On("GET /warm", HostileHttpsServer.Json("{}"));
        using (await _http.GetAsync(_server.Url("/warm"))) { }
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<AcmeException>(() => Client(TimeSpan.FromSeconds(3)).GetDirectoryAsync());
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(2.9), TimeSpan.FromSeconds(8));
        Assert.Equal(AcmeFailure.Unreachable, error.Reason);
        Assert.Equal($"The ACME server at {_server.Url("/dir")} did not send its whole answer within 3 s; the appliance stopped reading. Try again later.", error.Message);
    }

    [Fact]
    public async Task AnAnswerWithinTheLimitsIsRead()
    {
        var website = new string('w', 900_000);
        _server.On("GET /dir", HostileHttpsServer.Json($$$"""
            {"newNonce":"{{{_server.Url("/nonce")}}}","newAccount":"{{{_server.Url("/acct")}}}","newOrder":"{{{_server.Url("/order")}}}","meta":{"website":"{{{website}}}"}}
            """));
        var directory = await Client().GetDirectoryAsync();
        Assert.Equal(_server.Url("/nonce"), directory.NewNonce);
        Assert.Equal(900_000, directory.Meta!.Website!.Length);
    }
}
