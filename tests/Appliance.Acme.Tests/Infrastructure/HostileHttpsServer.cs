using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>
/// A tiny HTTPS/1.1 server on loopback for hostile-peer tests: TLS with a <see cref="PebbleTls"/> certificate (trusted by the
/// client through its CA file), one request per connection, answered by a script per path that writes raw bytes to the
/// stream, so it can announce huge bodies, stream without end, or trickle. Records the request lines it received.
/// </summary>
public sealed class HostileHttpsServer : IDisposable
{
    private readonly TcpAcceptLoop _loop;
    private readonly X509Certificate2 _certificate;
    private readonly Dictionary<string, Func<Stream, CancellationToken, Task>> _routes = new(StringComparer.Ordinal);
    private readonly List<string> _requests = [];

    public HostileHttpsServer(PebbleTls tls)
    {
        using var pem = X509Certificate2.CreateFromPemFile(tls.CertificatePath, tls.KeyPath);
        _certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null); // an ephemeral key cannot serve TLS here
        _loop = new TcpAcceptLoop(new TcpListener(IPAddress.Loopback, 0), ServeAsync);
    }

    public int Port => _loop.Port;
    public string Url(string path) => $"https://127.0.0.1:{Port}{path}";

    /// <summary>The request lines received so far ("GET /dir").</summary>
    public IReadOnlyList<string> Requests { get { lock (_requests) return [.. _requests]; } }

    /// <summary>Answers "METHOD /path" by writing to the TLS stream; the connection closes when the script returns.</summary>
    public HostileHttpsServer On(string route, Func<Stream, CancellationToken, Task> answer)
    {
        _routes[route] = answer;
        return this;
    }

    public static Task WriteAsync(Stream stream, string text, CancellationToken cancellationToken) =>
        stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken).AsTask();

    /// <summary>A complete JSON answer.</summary>
    public static Func<Stream, CancellationToken, Task> Json(string json) => (stream, token) =>
        WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(json)}\r\nReplay-Nonce: n1\r\n"
            + $"Connection: close\r\n\r\n{json}", token);

    private async Task ServeAsync(TcpClient client, CancellationToken cancellationToken)
    {
        await using var tls = new SslStream(client.GetStream());
        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, cancellationToken);
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await tls.ReadAsync(one, cancellationToken) == 0) return;
            head.Append((char)one[0]);
        }
        var requestLine = head.ToString()[..head.ToString().IndexOf("\r\n", StringComparison.Ordinal)];
        var parts = requestLine.Split(' ');
        var route = $"{parts[0]} {parts[1]}";
        lock (_requests) _requests.Add(route);
        if (_routes.TryGetValue(route, out var answer)) await answer(tls, cancellationToken);
        else await WriteAsync(tls, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", cancellationToken);
        await tls.FlushAsync(cancellationToken);
    }

    public void Dispose()
    {
        _loop.Dispose();
        _certificate.Dispose();
    }
}
