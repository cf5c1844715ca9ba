using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>
/// A minimal HTTP/1.1 server on loopback that answers /.well-known/acme-challenge/{token} from an
/// <see cref="Http01ChallengeStore"/> (text/plain) and 404 otherwise: the port pebble's VA is pointed at.
/// </summary>
public sealed class ChallengeHttpServer : IDisposable
{
    private readonly TcpAcceptLoop _loop;

    public ChallengeHttpServer() => _loop = new TcpAcceptLoop(new TcpListener(IPAddress.Loopback, 0), ServeAsync);

    public int Port => _loop.Port;

    /// <summary>The store answers come from; tests may swap it for a wrong-answer responder.</summary>
    public Http01ChallengeStore Store { get; } = new();

    public int Requests;

    private async Task ServeAsync(TcpClient client, CancellationToken cancellationToken)
    {
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
        var requestLine = await reader.ReadLineAsync(cancellationToken) ?? "";
        while (!string.IsNullOrEmpty(await reader.ReadLineAsync(cancellationToken))) { }
        Interlocked.Increment(ref Requests);
        var path = requestLine.Split(' ') is [_, var p, ..] ? p : "/";
        var answer = path.StartsWith(Http01ChallengeStore.PathPrefix, StringComparison.Ordinal)
            ? Store.Answer(path[Http01ChallengeStore.PathPrefix.Length..]) : null;
        var body = Encoding.ASCII.GetBytes(answer ?? "not found");
        var head = $"HTTP/1.1 {(answer is null ? "404 Not Found" : "200 OK")}\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
        await stream.WriteAsync(body, cancellationToken);
    }

    public void Dispose() => _loop.Dispose();
}
