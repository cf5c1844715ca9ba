using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Tests.Hostile;

/// <summary>
/// Slow and idle clients: connections that never send a ClientHello, that finish TLS and then idle, and that send
/// their request headers at one byte a second, all held open at once, do not stop a new client from being served;
/// the appliance closes them by its own timeouts.
/// </summary>
public sealed class SlowClientTests
{
    private const int IdleTcp = 4_500;
    private const int IdleTls = 500;
    private const int Slowloris = 50;

    [Fact]
    public async Task SlowlorisAndFiveThousandIdleConnectionsDoNotStopANewClientFromBeingServed()
    {
        var needed = IdleTcp + IdleTls + Slowloris + 500;
        var ownLimit = OpenFilesSoftLimit("self");
        Assert.True(ownLimit >= (ulong)needed,
            $"This test holds {needed} sockets, but the test process may open only {ownLimit} files: run it with a higher limit (ulimit -n {needed * 2}).");
        await using var upstream = new RawUpstream();
        await using var appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--site-upstream", upstream.Url);
        // The appliance raised its own soft limit to the hard one (systemd's soft 1024 would cap it at a thousand clients).
        var limits = File.ReadAllLines($"/proc/{appliance.ProcessId}/limits").Single(l => l.StartsWith("Max open files"));
        var parts = limits.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(parts[3], parts[4]);

        var idle = new List<Socket>();
        var tls = new List<SslStream>();
        var slow = new List<SslStream>();
        using var stop = new CancellationTokenSource();
        try
        {
            // Handshakes first (they take a while); the bare TCP connections last, so all are open together.
            for (var i = 0; i < IdleTls; i++) tls.Add(await RawTls.ConnectAsync(appliance.HttpsPort));
            for (var i = 0; i < Slowloris; i++) slow.Add(await RawTls.ConnectAsync(appliance.HttpsPort));
            var dripping = slow.Select(s => DripAsync(s, stop.Token)).ToList();
            for (var i = 0; i < IdleTcp; i++) idle.Add(await OpenTcpAsync(appliance.HttpsPort));

            // With every one of them held, a new client is served at once, again and again.
            for (var round = 0; round < 5; round++)
            {
                var watch = Stopwatch.StartNew();
                var (status, body, _) = await RawTls.CurlAsync("--max-time", "10", $"https://127.0.0.1:{appliance.HttpsPort}/new-client");
                Assert.Equal(200, status);
                Assert.StartsWith(RawUpstream.BodyPrefix + "GET /new-client", body);
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"a new client waited {watch.Elapsed.TotalSeconds:0.0} s in round {round}");
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            // The TLS handshake timeout (10 s) closes the connections that never sent a ClientHello.
            var handshakeDeadline = DateTime.UtcNow.AddSeconds(30);
            while (idle.Any(s => !ClosedByPeer(s)) && DateTime.UtcNow < handshakeDeadline) await Task.Delay(500);
            Assert.All(idle, s => Assert.True(ClosedByPeer(s), "a connection that never sent a ClientHello is still open after 30 s"));

            // Kestrel's request-headers timeout (30 s) ends the slowloris connections.
            var headersDeadline = DateTime.UtcNow.AddSeconds(60);
            while (dripping.Any(d => !d.IsCompleted) && DateTime.UtcNow < headersDeadline) await Task.Delay(500);
            Assert.All(dripping, d => Assert.True(d.IsCompleted, "a connection sending its headers at 1 byte/s is still open after 60 s"));
            Assert.DoesNotContain(upstream.Requests, r => r.Target == "/slow");
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var s in idle) s.Dispose();
            foreach (var s in tls.Concat(slow)) await s.DisposeAsync();
        }
    }

    private static async Task<Socket> OpenTcpAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        return socket;
    }

    /// <summary>Request headers at one byte a second, never finished; ends when the appliance closes the connection.</summary>
    private static async Task DripAsync(SslStream stream, CancellationToken stop)
    {
        var head = Encoding.ASCII.GetBytes("GET /slow HTTP/1.1\r\nHost: site.test\r\nX-Padding: " + new string('a', 10_000));
        try
        {
            foreach (var b in head)
            {
                await stream.WriteAsync(new[] { b }, stop);
                await stream.FlushAsync(stop);
                await Task.Delay(1000, stop);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // closed by the appliance (or the test ended)
        }
    }

    /// <summary>True when the peer has closed: readable with nothing to read (or reset).</summary>
    private static bool ClosedByPeer(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private static ulong OpenFilesSoftLimit(string process)
    {
        var line = File.ReadAllLines($"/proc/{process}/limits").Single(l => l.StartsWith("Max open files"));
        var soft = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
        return soft == "unlimited" ? ulong.MaxValue : ulong.Parse(soft);
    }
}
