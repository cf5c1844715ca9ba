using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Appliance.Acme.Caa;

/// <summary>Asks one question of a DNS server. Throws <see cref="DnsLookupException"/> when no usable answer comes.</summary>
public interface IDnsClient
{
    Task<DnsResponse> QueryAsync(string name, ushort type, CancellationToken cancellationToken);
}

/// <summary>A DNS question that got no usable answer (timeout, unreachable server, malformed reply); the message says which.</summary>
public sealed class DnsLookupException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A stub resolver client for one recursive DNS server: the query goes over UDP (RFC 1035 section 4.2.1, retried once on
/// timeout) and again over TCP with the two-octet length prefix (section 4.2.2) when the UDP answer is truncated (TC).
/// </summary>
public sealed class DnsClient(IPEndPoint server) : IDnsClient
{
    public const string ResolvConf = "/etc/resolv.conf";

    public IPEndPoint Server { get; } = server;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The first <c>nameserver</c> of resolv.conf(5), or 127.0.0.1 as the resolver library assumes when there is none.</summary>
    public static IPEndPoint SystemServer(string? resolvConfText)
    {
        foreach (var line in (resolvConfText ?? "").Split('\n'))
        {
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && fields[0] == "nameserver" && IPAddress.TryParse(fields[1].Split('%')[0], out var address))
                return new IPEndPoint(address, 53);
        }
        return new IPEndPoint(IPAddress.Loopback, 53);
    }

    /// <summary>HOST or HOST:PORT ([v6]:PORT) as given by --dns-server; throws <see cref="ArgumentException"/> in words.</summary>
    public static IPEndPoint ParseServer(string text)
    {
        if (IPAddress.TryParse(text, out var bare)) return new IPEndPoint(bare, 53);
        if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port > 0) return endpoint;
        throw new ArgumentException($"'{text}' is not a DNS server address; give an IP address, optionally with a port, such as 192.0.2.53 or 127.0.0.1:5353.");
    }

    public async Task<DnsResponse> QueryAsync(string name, ushort type, CancellationToken cancellationToken)
    {
        var id = (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
        var query = DnsMessage.Query(id, name, type);
        var response = await UdpAsync(query, id, name, cancellationToken);
        return response.Truncated ? await TcpAsync(query, id, name, cancellationToken) : response;
    }

    private async Task<DnsResponse> UdpAsync(byte[] query, ushort id, string name, CancellationToken cancellationToken)
    {
        using var udp = new UdpClient(Server.AddressFamily);
        udp.Connect(Server);
        for (var attempt = 1; ; attempt++)
        {
            await udp.SendAsync(query, cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            try
            {
                while (true)
                {
                    var received = await udp.ReceiveAsync(timeout.Token);
                    var response = Parse(received.Buffer, name);
                    if (response.Id == id) return response; // a late answer to an earlier try is ignored
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (attempt == 2) throw new DnsLookupException($"The DNS server {Server} did not answer the question for {name} within {Timeout.TotalSeconds * 2:0} s.");
            }
            catch (SocketException e)
            {
                throw new DnsLookupException($"The DNS server {Server} could not be asked about {name}: {e.Message}.", e);
            }
        }
    }

    private async Task<DnsResponse> TcpAsync(byte[] query, ushort id, string name, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout * 2);
        try
        {
            using var tcp = new TcpClient(Server.AddressFamily);
            await tcp.ConnectAsync(Server, timeout.Token);
            var stream = tcp.GetStream();
            var framed = new byte[2 + query.Length];
            BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
            query.CopyTo(framed, 2);
            await stream.WriteAsync(framed, timeout.Token);
            var prefix = new byte[2];
            await stream.ReadExactlyAsync(prefix, timeout.Token);
            var body = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
            await stream.ReadExactlyAsync(body, timeout.Token);
            var response = Parse(body, name);
            if (response.Id != id) throw new DnsLookupException($"The DNS server {Server} answered the question for {name} over TCP with another message id.");
            return response;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DnsLookupException($"The DNS server {Server} did not answer the question for {name} over TCP within {(Timeout * 2).TotalSeconds:0} s.");
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            throw new DnsLookupException($"The DNS server {Server} truncated its answer for {name} and could not be asked over TCP: {e.Message}.", e);
        }
    }

    private DnsResponse Parse(byte[] message, string name)
    {
        try
        {
            return DnsMessage.Parse(message);
        }
        catch (DnsFormatException e)
        {
            throw new DnsLookupException($"The DNS server {Server} sent a malformed answer for {name}: {e.Message}", e);
        }
    }
}
