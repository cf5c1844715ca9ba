using System.Net;
using System.Net.Sockets;

namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>
/// The accept loop of the tests' small TCP servers: each connection is served on its own task and disposed afterwards;
/// a client that goes away (I/O or socket error) or a stop ends only its own connection.
/// </summary>
public sealed class TcpAcceptLoop : IDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<TcpClient, CancellationToken, Task> _serve;
    private readonly CancellationTokenSource _stop = new();

    /// <param name="listener">A listener that is not started yet; the loop starts and stops it.</param>
    public TcpAcceptLoop(TcpListener listener, Func<TcpClient, CancellationToken, Task> serve)
    {
        _listener = listener;
        _serve = serve;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptAsync);
    }

    public int Port { get; }

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
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await _serve(client, _stop.Token);
                    }
                    catch (Exception e) when (e is IOException or SocketException or OperationCanceledException
                                              or System.Security.Authentication.AuthenticationException)
                    {
                        // The client went away, or the server stops.
                    }
                }
            });
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
