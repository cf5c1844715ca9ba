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
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();

    public ChallengeHttpServer()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    /// <summary>The store answers come from; tests may swap it for a wrong-answer responder.</summary>
    public Http01ChallengeStore Store { get; } = new();

    public int Requests;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
                var requestLine = await reader.ReadLineAsync() ?? "";
                while (!string.IsNullOrEmpty(await reader.ReadLineAsync())) { }
                Interlocked.Increment(ref Requests);
                var path = requestLine.Split(' ') is [_, var p, ..] ? p : "/";
                var answer = path.StartsWith(Http01ChallengeStore.PathPrefix, StringComparison.Ordinal)
                    ? Store.Answer(path[Http01ChallengeStore.PathPrefix.Length..]) : null;
                var body = Encoding.ASCII.GetBytes(answer ?? "not found");
                var head = $"HTTP/1.1 {(answer is null ? "404 Not Found" : "200 OK")}\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
                await stream.WriteAsync(body);
            }
            catch (IOException)
            {
                // The client went away.
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
