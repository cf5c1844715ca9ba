using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>
/// A tiny DNS server on loopback (UDP and TCP on one port, RFC 1035 section 4.1 message format) for pebble's -dnsserver and
/// the appliance's CAA pre-check: every A question is answered 127.0.0.1, so pebble's validation authority reaches our HTTP
/// listener for any hostname; CAA and CNAME records come from the zone the test sets up; everything else (AAAA, ...) gets an
/// empty NOERROR answer. Like a recursive resolver, an alias is answered with the CNAME chain and the target's records
/// (unless <see cref="ChaseAliases"/> is off); a UDP answer over 512 octets is truncated (TC) so the client asks over TCP.
/// </summary>
public sealed class DnsResponder : IDisposable
{
    private const int UdpLimit = 512;
    private readonly UdpClient _udp;
    private readonly TcpAcceptLoop _tcp;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, List<(byte Flags, string Tag, string Value)>> _caa = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, string> _cnames = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<(string Name, ushort Type, bool Tcp)> _log = new();

    public DnsResponder()
    {
        // One port for both transports: a client retries a truncated UDP answer over TCP at the same address.
        for (var attempt = 0; ; attempt++)
        {
            var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
            try
            {
                _tcp = new TcpAcceptLoop(new TcpListener(IPAddress.Loopback, port), ServeTcpAsync);
                (_udp, Port) = (udp, port);
                break;
            }
            catch (SocketException) when (attempt < 20)
            {
                udp.Dispose();
            }
        }
        _ = Task.Run(ServeUdpAsync);
    }

    public int Port { get; }

    public int Questions;

    /// <summary>Whether an alias is answered with its target's records too (a recursive resolver) or with the CNAME alone.</summary>
    public bool ChaseAliases { get; set; } = true;

    /// <summary>Every question asked so far: name, type and whether it came over TCP.</summary>
    public IReadOnlyList<(string Name, ushort Type, bool Tcp)> Log => [.. _log];

    /// <summary>Adds a CAA record (RFC 8659 section 4.1) at <paramref name="name"/>.</summary>
    public DnsResponder AddCaa(string name, string tag, string value, byte flags = 0)
    {
        _caa.GetOrAdd(name.TrimEnd('.'), _ => []).Add((flags, tag, value));
        return this;
    }

    /// <summary>Makes <paramref name="name"/> an alias of <paramref name="target"/>.</summary>
    public DnsResponder AddCname(string name, string target)
    {
        _cnames[name.TrimEnd('.')] = target.TrimEnd('.');
        return this;
    }

    private async Task ServeUdpAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try
            {
                received = await _udp.ReceiveAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            var answer = Answer(received.Buffer, tcp: false);
            if (answer is not null) await _udp.SendAsync(answer, received.RemoteEndPoint);
        }
    }

    private async Task ServeTcpAsync(TcpClient client, CancellationToken cancellationToken)
    {
        var stream = client.GetStream();
        var prefix = new byte[2];
        await stream.ReadExactlyAsync(prefix, cancellationToken);
        var query = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        await stream.ReadExactlyAsync(query, cancellationToken);
        var answer = Answer(query, tcp: true);
        if (answer is null) return;
        BinaryPrimitives.WriteUInt16BigEndian(prefix, (ushort)answer.Length);
        await stream.WriteAsync(prefix, cancellationToken);
        await stream.WriteAsync(answer, cancellationToken);
    }

    internal byte[]? Answer(byte[] query, bool tcp = false)
    {
        if (query.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(4)) != 1) return null;
        var labels = new List<string>();
        var end = 12;
        while (end < query.Length && query[end] != 0)
        {
            if (end + 1 + query[end] > query.Length) return null;
            labels.Add(Encoding.ASCII.GetString(query, end + 1, query[end]));
            end += query[end] + 1;
        }
        end += 1; // the root label
        if (end + 4 > query.Length) return null;
        var name = string.Join('.', labels);
        var type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(end));
        end += 4;
        Interlocked.Increment(ref Questions);
        _log.Enqueue((name, type, tcp));

        var records = new List<(string Owner, ushort Type, byte[] Data)>();
        if (type == 1) records.Add((name, 1, IPAddress.Loopback.GetAddressBytes()));
        else if (type == 257)
        {
            var owner = name;
            for (var hops = 0; hops < 16 && _cnames.TryGetValue(owner, out var target); hops++)
            {
                records.Add((owner, 5, EncodeName(target)));
                owner = target;
                if (!ChaseAliases) break;
            }
            if (owner == name || ChaseAliases)
                foreach (var (flags, tag, value) in _caa.GetValueOrDefault(owner) ?? [])
                    records.Add((owner, 257, [flags, (byte)tag.Length, .. Encoding.ASCII.GetBytes(tag), .. Encoding.UTF8.GetBytes(value)]));
        }

        using var response = new MemoryStream();
        response.Write(query.AsSpan(0, end));
        Span<byte> fixedPart = stackalloc byte[10];
        foreach (var (owner, recordType, data) in records)
        {
            response.Write(EncodeName(owner));
            BinaryPrimitives.WriteUInt16BigEndian(fixedPart, recordType);
            BinaryPrimitives.WriteUInt16BigEndian(fixedPart[2..], 1);  // IN
            BinaryPrimitives.WriteUInt32BigEndian(fixedPart[4..], 60); // TTL
            BinaryPrimitives.WriteUInt16BigEndian(fixedPart[8..], (ushort)data.Length);
            response.Write(fixedPart);
            response.Write(data);
        }
        var bytes = response.ToArray();
        var truncated = !tcp && bytes.Length > UdpLimit;
        if (truncated) bytes = bytes[..end]; // RFC 1035 section 4.2.1: a UDP answer is limited to 512 octets; TC tells the client to use TCP
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)(0x8400 | (truncated ? 0x0200 : 0) | (query[2] & 0x01) << 8 | 0x80)); // QR, AA, TC, RD copied, RA
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(6), (ushort)(truncated ? 0 : records.Count)); // ANCOUNT
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(10), 0);
        return bytes;
    }

    private static byte[] EncodeName(string name)
    {
        using var bytes = new MemoryStream();
        foreach (var label in name.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            bytes.WriteByte((byte)label.Length);
            bytes.Write(Encoding.ASCII.GetBytes(label));
        }
        bytes.WriteByte(0);
        return bytes.ToArray();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _udp.Dispose();
        _tcp.Dispose();
    }
}
