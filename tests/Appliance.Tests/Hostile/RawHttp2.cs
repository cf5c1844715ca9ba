using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Tests.Hostile;

/// <summary>
/// Exact HTTP/2 frames (RFC 9113) over TLS with ALPN h2, for attacks no well-behaved client makes: the connection
/// preface and an empty SETTINGS, then whatever frames a test writes; frames read back one at a time.
/// Header blocks are built from HPACK's static table and literals without Huffman coding (RFC 7541).
/// </summary>
public sealed class RawHttp2 : IAsyncDisposable
{
    public const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7, WindowUpdate = 0x8, Continuation = 0x9;
    public const byte EndStream = 0x1, EndHeaders = 0x4, Ack = 0x1;
    public const uint Cancel = 0x8;

    private readonly SslStream _tls;

    private RawHttp2(SslStream tls) => _tls = tls;

    public static async Task<RawHttp2> ConnectAsync(int port)
    {
        var client = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, port);
        var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "site.test",
            ApplicationProtocols = [SslApplicationProtocol.Http2],
        });
        Assert.Equal(SslApplicationProtocol.Http2, tls.NegotiatedApplicationProtocol);
        var connection = new RawHttp2(tls);
        await tls.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        await connection.WriteFrameAsync(Settings, 0, 0, ReadOnlyMemory<byte>.Empty);
        return connection;
    }

    /// <summary>A GET's header block for <paramref name="path"/>: :method GET, :scheme https (static table), :path and :authority as literals, then <paramref name="extra"/>.</summary>
    public static byte[] RequestBlock(string path = "/", params (string Name, string Value)[] extra)
    {
        var block = new List<byte> { 0x82, 0x87 }; // :method GET, :scheme https
        Literal(block, 4, null, path);              // :path, name from the static table
        Literal(block, 1, null, "site.test");       // :authority
        foreach (var (name, value) in extra) Literal(block, 0, name, value);
        return [.. block];
    }

    /// <summary>A literal header field without indexing (RFC 7541 6.2.2): a static-table name index, or a new name.</summary>
    private static void Literal(List<byte> block, int nameIndex, string? name, string value)
    {
        if (name is null) Integer(block, 0x00, 4, nameIndex);
        else
        {
            block.Add(0x00);
            String(block, name);
        }
        String(block, value);
    }

    private static void String(List<byte> block, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        Integer(block, 0x00, 7, bytes.Length);
        block.AddRange(bytes);
    }

    /// <summary>An HPACK integer with an N-bit prefix (RFC 7541 5.1).</summary>
    private static void Integer(List<byte> block, byte flags, int prefixBits, int value)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            block.Add((byte)(flags | value));
            return;
        }
        block.Add((byte)(flags | max));
        value -= max;
        while (value >= 128)
        {
            block.Add((byte)(value % 128 + 128));
            value /= 128;
        }
        block.Add((byte)value);
    }

    public async Task WriteFrameAsync(byte type, byte flags, int streamId, ReadOnlyMemory<byte> payload, bool flush = true)
    {
        var header = new byte[9];
        header[0] = (byte)(payload.Length >> 16);
        header[1] = (byte)(payload.Length >> 8);
        header[2] = (byte)payload.Length;
        header[3] = type;
        header[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(5), streamId & 0x7fffffff);
        await _tls.WriteAsync(header);
        if (payload.Length > 0) await _tls.WriteAsync(payload);
        if (flush) await _tls.FlushAsync();
    }

    public Task RstStreamAsync(int streamId, uint error, bool flush = true)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, error);
        return WriteFrameAsync(RstStream, 0, streamId, payload, flush);
    }

    /// <summary>One frame, or null when the server closed the connection (or reset it) or sent nothing for <paramref name="quiet"/>.</summary>
    public async Task<(byte Type, byte Flags, int StreamId, byte[] Payload)?> ReadFrameAsync(TimeSpan quiet)
    {
        using var silence = new CancellationTokenSource(quiet);
        try
        {
            var header = new byte[9];
            await _tls.ReadExactlyAsync(header, silence.Token);
            var length = header[0] << 16 | header[1] << 8 | header[2];
            var payload = new byte[length];
            await _tls.ReadExactlyAsync(payload, silence.Token);
            return (header[3], header[4], BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7fffffff, payload);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or EndOfStreamException)
        {
            return null;
        }
    }

    /// <summary>Reads frames (answering nothing) until GOAWAY arrives, the connection ends, or it stays silent; the frames read, in order.</summary>
    public async Task<List<(byte Type, byte Flags, int StreamId, byte[] Payload)>> ReadUntilGoneAsync(TimeSpan quiet, int maxFrames = 100_000)
    {
        var frames = new List<(byte, byte, int, byte[])>();
        while (frames.Count < maxFrames && await ReadFrameAsync(quiet) is { } frame)
        {
            frames.Add(frame);
            if (frame.Type == GoAway) break;
        }
        return frames;
    }

    /// <summary>The error code of a GOAWAY frame's payload.</summary>
    public static uint GoAwayError(byte[] payload) => BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(4));

    public async ValueTask DisposeAsync() => await _tls.DisposeAsync();
}
