using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>
/// A tiny DNS server for pebble's -dnsserver: every A question is answered 127.0.0.1, everything else
/// (AAAA, CAA, ...) with an empty NOERROR answer, so pebble's validation authority reaches our HTTP listener
/// for any hostname (RFC 1035 section 4.1 message format).
/// </summary>
public sealed class DnsResponder : IDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly CancellationTokenSource _stop = new();

    public DnsResponder()
    {
        Port = ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;
        _ = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public int Questions;

    private async Task ServeAsync()
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
            var answer = Answer(received.Buffer);
            if (answer is not null) await _udp.SendAsync(answer, received.RemoteEndPoint);
        }
    }

    internal byte[]? Answer(byte[] query)
    {
        if (query.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(4)) != 1) return null;
        var end = 12;
        while (end < query.Length && query[end] != 0) end += query[end] + 1;
        end += 1; // the root label
        if (end + 4 > query.Length) return null;
        var type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(end));
        end += 4;
        Interlocked.Increment(ref Questions);

        var isA = type == 1;
        var response = new byte[end + (isA ? 16 : 0)];
        query.AsSpan(0, end).CopyTo(response);
        BinaryPrimitives.WriteUInt16BigEndian(response.AsSpan(2), (ushort)(0x8400 | (query[2] & 0x01) << 8 | 0x80)); // QR, AA, RD copied, RA
        BinaryPrimitives.WriteUInt16BigEndian(response.AsSpan(6), (ushort)(isA ? 1 : 0)); // ANCOUNT
        BinaryPrimitives.WriteUInt16BigEndian(response.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt16BigEndian(response.AsSpan(10), 0);
        if (isA)
        {
            var a = response.AsSpan(end);
            BinaryPrimitives.WriteUInt16BigEndian(a, 0xC00C);     // name: pointer to the question
            BinaryPrimitives.WriteUInt16BigEndian(a[2..], 1);     // A
            BinaryPrimitives.WriteUInt16BigEndian(a[4..], 1);     // IN
            BinaryPrimitives.WriteUInt32BigEndian(a[6..], 60);    // TTL
            BinaryPrimitives.WriteUInt16BigEndian(a[10..], 4);
            IPAddress.Loopback.GetAddressBytes().CopyTo(a[12..]);
        }
        return response;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _udp.Dispose();
    }
}
