using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Tests;

/// <summary>
/// A small HTTP/1.1 origin on a TCP port or a Unix socket: records each request (head and body) and answers
/// 201 with a body and a header of its own, then closes the connection.
/// </summary>
internal sealed class RecordingOrigin : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private RecordingOrigin(Socket listener)
    {
        _listener = listener;
        _accepting = AcceptAsync();
    }

    public ConcurrentQueue<(string Head, string Body)> Requests { get; } = new();
    public string Upstream { get; private init; } = "";

    public static RecordingOrigin OnTcp()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        return new RecordingOrigin(listener) { Upstream = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}" };
    }

    public static RecordingOrigin OnUnixSocket(string path)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        return new RecordingOrigin(listener) { Upstream = "unix:" + path };
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try { connection = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        using var _ = connection;
        await using var stream = new NetworkStream(connection);
        var received = new MemoryStream();
        var buffer = new byte[8192];
        int headEnd;
        while ((headEnd = IndexOf(received, "\r\n\r\n"u8)) < 0)
        {
            var n = await stream.ReadAsync(buffer);
            if (n == 0) return;
            received.Write(buffer, 0, n);
        }
        var head = Encoding.ASCII.GetString(received.GetBuffer(), 0, headEnd);
        var length = head.Split("\r\n").Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(p => int.Parse(p[1].Trim())).FirstOrDefault();
        while (received.Length < headEnd + 4 + length)
        {
            var n = await stream.ReadAsync(buffer);
            if (n == 0) break;
            received.Write(buffer, 0, n);
        }
        var body = Encoding.UTF8.GetString(received.GetBuffer(), headEnd + 4, (int)received.Length - headEnd - 4);
        Requests.Enqueue((head, body));
        var answer = "made by the origin";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Origin: yes\r\nContent-Length: {answer.Length}\r\nConnection: close\r\n\r\n{answer}"));
    }

    private static int IndexOf(MemoryStream stream, ReadOnlySpan<byte> value) =>
        stream.GetBuffer().AsSpan(0, (int)stream.Length).IndexOf(value);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try { await _accepting; } catch (Exception) { /* stopped */ }
    }
}

public sealed class SiteUpstreamTests
{
    private static HttpClient SiteClient(ApplianceProcess appliance)
    {
        var client = appliance.Client();
        client.BaseAddress = new Uri($"https://127.0.0.1:{appliance.HttpsPort}/");
        return client;
    }

    private static string Header(string head, string name) =>
        head.Split("\r\n").Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Equals(name, StringComparison.OrdinalIgnoreCase))
            .Select(p => p[1].Trim()).SingleOrDefault() ?? "";

    [Fact]
    public async Task SiteTrafficIsForwardedWithTheForwardedHeadersTheApplianceSawAndAdminPagesAreNot()
    {
        await using var origin = RecordingOrigin.OnTcp();
        await using var appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--site-upstream", origin.Upstream);
        using var client = SiteClient(appliance);

        using var get = new HttpRequestMessage(HttpMethod.Get, "shop/cart?item=42");
        get.Headers.Host = "site.example";
        get.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.66"); // a client's own claim is not passed on
        using var response = await client.SendAsync(get);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("made by the origin", await response.Content.ReadAsStringAsync());
        Assert.Equal("yes", response.Headers.GetValues("X-Origin").Single());
        // The site's responses are the origin's: the admin interface's policies (CSP, framing, caching) are not added.
        Assert.False(response.Headers.Contains("Content-Security-Policy"));
        Assert.False(response.Headers.Contains("X-Frame-Options"));
        Assert.Null(response.Headers.CacheControl);

        Assert.True(origin.Requests.TryDequeue(out var request));
        Assert.StartsWith("GET /shop/cart?item=42 HTTP/1.1", request.Head);
        Assert.Equal("site.example", Header(request.Head, "Host"));
        Assert.Equal("127.0.0.1", Header(request.Head, "X-Forwarded-For"));
        Assert.Equal("https", Header(request.Head, "X-Forwarded-Proto"));
        Assert.Equal("site.example", Header(request.Head, "X-Forwarded-Host"));

        using var post = await client.PostAsync("form", new StringContent("name=value&other=1", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        Assert.True(origin.Requests.TryDequeue(out var posted));
        Assert.StartsWith("POST /form HTTP/1.1", posted.Head);
        Assert.Equal("name=value&other=1", posted.Body);

        // /appliance is the appliance's own: never forwarded.
        using var admin = await client.GetAsync("appliance/login");
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("<form", await admin.Content.ReadAsStringAsync());
        Assert.True(origin.Requests.IsEmpty);
        Assert.StartsWith("default-src 'none'", admin.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("DENY", admin.Headers.GetValues("X-Frame-Options").Single());
        Assert.True(admin.Headers.CacheControl!.NoStore);
        Assert.Equal("max-age=31536000", admin.Headers.GetValues("Strict-Transport-Security").Single());
    }

    [Fact]
    public async Task AUnixSocketUpstreamIsForwardedToAndAnUpstreamThatIsDownAnswers502InWords()
    {
        var directory = Directory.CreateTempSubdirectory("appliance-origin-").FullName;
        var path = Path.Combine(directory, "origin.sock");
        await using (var origin = RecordingOrigin.OnUnixSocket(path))
        {
            await using var appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--site-upstream", origin.Upstream);
            using var client = SiteClient(appliance);
            using var response = await client.GetAsync("hello");
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.True(origin.Requests.TryDequeue(out var request));
            Assert.StartsWith("GET /hello HTTP/1.1", request.Head);
            Assert.Equal("https", Header(request.Head, "X-Forwarded-Proto"));
        }
        File.Delete(path);

        await using var orphan = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--site-upstream", "unix:" + path);
        using var orphanClient = SiteClient(orphan);
        using var down = await orphanClient.GetAsync("hello");
        Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
        Assert.Contains("upstream server did not answer", await down.Content.ReadAsStringAsync());
        Directory.Delete(directory, recursive: true);
    }
}
