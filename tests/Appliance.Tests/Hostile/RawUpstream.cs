using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace Appliance.Tests.Hostile;

/// <summary>One request as the upstream framed it from the bytes it received.</summary>
public sealed record UpstreamRequest(string Method, string Target, IReadOnlyList<(string Name, string Value)> Headers, long BodyLength, string BodySha256, byte[] BodyStart, IReadOnlyList<string> Anomalies)
{
    public IEnumerable<string> All(string name) => Headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);
    public string? One(string name) => All(name).SingleOrDefault();
    public bool Has(string name) => All(name).Any();
}

/// <summary>
/// A small HTTP/1.1 origin on a raw TCP listener (loopback) that frames requests strictly by RFC 9112 (Content-Length
/// or chunked, keep-alive) and records each one, with anything a strict server would flag (both Content-Length and
/// Transfer-Encoding, a coding other than chunked, repeated Content-Length). It answers 200 with a body naming the
/// request, echoes WebSocket messages after an Upgrade, or, when <see cref="Silent"/>, never answers.
/// </summary>
public sealed class RawUpstream : IAsyncDisposable
{
    public const string BodyPrefix = "upstream saw ";
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly ConcurrentBag<Socket> _open = [];
    private int _connections;

    public RawUpstream(string answerBody = "")
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        AnswerBody = answerBody;
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;
    public string Url => $"http://127.0.0.1:{Port}";
    public int Connections => Volatile.Read(ref _connections);
    public ConcurrentQueue<UpstreamRequest> Requests { get; } = new();
    /// <summary>Every byte received, per connection, for the failure message.</summary>
    public ConcurrentQueue<string> Received { get; } = new();
    /// <summary>Fields added to each answer, such as Set-Cookie lines ("Name: value").</summary>
    public IReadOnlyList<string> AnswerHeaders { get; set; } = [];
    /// <summary>A fixed answer body (the secret server's); otherwise the body names the request.</summary>
    public string AnswerBody { get; }
    /// <summary>Read requests but never answer (an upstream that hangs).</summary>
    public bool Silent { get; set; }

    /// <summary>Forgets the requests recorded so far (a fixture's upstream, before each test).</summary>
    public RawUpstream Cleared()
    {
        Requests.Clear();
        Received.Clear();
        return this;
    }

    public string Describe() => $"{Requests.Count} requests on {Connections} connections; received:\n" + string.Join("\n---\n", Received);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try { connection = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception) { return; }
            Interlocked.Increment(ref _connections);
            _open.Add(connection);
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        var log = new StringBuilder();
        try
        {
            await using var stream = new NetworkStream(connection, ownsSocket: true);
            var reader = new ByteReader(stream, log);
            while (true)
            {
                var head = await reader.ReadHeadAsync();
                if (head is null) return;
                var lines = head.Split("\r\n");
                var requestLine = lines[0].Split(' ');
                var headers = new List<(string, string)>();
                var anomalies = new List<string>();
                if (requestLine.Length != 3 || requestLine[2] != "HTTP/1.1") anomalies.Add($"request line not 'METHOD TARGET HTTP/1.1': '{lines[0]}'");
                foreach (var line in lines.Skip(1))
                {
                    var colon = line.IndexOf(':');
                    if (colon <= 0 || line[..colon].Trim() != line[..colon] || line.StartsWith(' ') || line.StartsWith('\t'))
                        anomalies.Add($"malformed field line '{line}'");
                    else headers.Add((line[..colon], line[(colon + 1)..].Trim()));
                }
                var lengths = headers.Where(h => h.Item1.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Select(h => h.Item2).ToList();
                var codings = headers.Where(h => h.Item1.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)).Select(h => h.Item2).ToList();
                if (lengths.Count > 1) anomalies.Add("more than one Content-Length");
                if (lengths.Count > 0 && codings.Count > 0) anomalies.Add("both Content-Length and Transfer-Encoding");
                if (codings.Count > 1 || codings.Any(c => !c.Equals("chunked", StringComparison.OrdinalIgnoreCase))) anomalies.Add("Transfer-Encoding other than chunked: " + string.Join(" | ", codings));

                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var start = new MemoryStream();
                long bodyLength;
                if (codings.Count > 0) bodyLength = await reader.ReadChunkedAsync(hash, start);
                else if (lengths.Count > 0 && long.TryParse(lengths[0], out var length)) bodyLength = await reader.ReadExactAsync(length, hash, start);
                else bodyLength = 0;
                if (bodyLength < 0) return; // the connection ended inside the body: no complete request

                var request = new UpstreamRequest(requestLine[0], requestLine.Length > 1 ? requestLine[1] : "", headers, bodyLength,
                    Convert.ToHexStringLower(hash.GetHashAndReset()), start.ToArray(), anomalies);
                Requests.Enqueue(request);
                if (Silent)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    return;
                }
                if (request.One("Upgrade") is { } upgrade && upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase))
                {
                    await EchoWebSocketAsync(stream, request);
                    return;
                }
                var body = Encoding.UTF8.GetBytes(AnswerBody.Length > 0 ? AnswerBody : $"{BodyPrefix}{request.Method} {request.Target} ({bodyLength} bytes, sha256 {request.BodySha256})");
                var answer = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n");
                foreach (var line in AnswerHeaders) answer.Append(line).Append("\r\n");
                answer.Append($"Content-Length: {body.Length}\r\n\r\n");
                await stream.WriteAsync(Encoding.ASCII.GetBytes(answer.ToString()).Concat(body).ToArray());
                if (request.One("Connection")?.Contains("close", StringComparison.OrdinalIgnoreCase) == true) return;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or FormatException or OverflowException or ArgumentException or WebSocketException)
        {
            // the peer went away or sent what a strict server refuses; what was received is recorded below
        }
        finally
        {
            Received.Enqueue(log.ToString());
        }
    }

    private static async Task EchoWebSocketAsync(NetworkStream stream, UpstreamRequest request)
    {
        // RFC 6455 4.2.2: the accept value is SHA-1 of the key and the protocol's GUID.
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(request.One("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"));
        using var socket = WebSocket.CreateFromStream(stream, isServer: true, subProtocol: null, keepAliveInterval: TimeSpan.Zero);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                return;
            }
            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        foreach (var socket in _open) socket.Dispose();
        try { await _accepting; } catch (Exception) { /* stopped */ }
    }

    /// <summary>Buffered reads over the connection, logging what arrives (the first 64 KiB of it).</summary>
    private sealed class ByteReader(Stream stream, StringBuilder log)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start, _end;

        private async Task<bool> FillAsync()
        {
            if (_start == _end) _start = _end = 0;
            if (_end == _buffer.Length)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            var n = await stream.ReadAsync(_buffer.AsMemory(_end));
            if (n == 0) return false;
            if (log.Length < 64 * 1024) log.Append(Encoding.Latin1.GetString(_buffer, _end, n));
            _end += n;
            return true;
        }

        public async Task<string?> ReadHeadAsync()
        {
            while (true)
            {
                var index = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
                if (index >= 0)
                {
                    var head = Encoding.Latin1.GetString(_buffer, _start, index);
                    _start += index + 4;
                    return head;
                }
                if (_end - _start == _buffer.Length) throw new FormatException("request head over 64 KiB");
                if (!await FillAsync()) return null;
            }
        }

        private async Task<string?> ReadLineAsync()
        {
            while (true)
            {
                var index = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
                if (index >= 0)
                {
                    var line = Encoding.Latin1.GetString(_buffer, _start, index);
                    _start += index + 2;
                    return line;
                }
                if (!await FillAsync()) return null;
            }
        }

        /// <summary>The body's length, or -1 when the connection ended first.</summary>
        public async Task<long> ReadExactAsync(long length, IncrementalHash hash, MemoryStream start)
        {
            var left = length;
            while (left > 0)
            {
                if (_start == _end && !await FillAsync()) return -1;
                var take = (int)Math.Min(left, _end - _start);
                hash.AppendData(_buffer, _start, take);
                if (start.Length < 4096) start.Write(_buffer, _start, (int)Math.Min(take, 4096 - start.Length));
                _start += take;
                left -= take;
            }
            return length;
        }

        /// <summary>RFC 9112 7.1: chunks up to the last one and the trailer section; -1 when the connection ended first.</summary>
        public async Task<long> ReadChunkedAsync(IncrementalHash hash, MemoryStream start)
        {
            long total = 0;
            while (true)
            {
                var line = await ReadLineAsync();
                if (line is null) return -1;
                var size = Convert.ToInt64(line.Split(';')[0].Trim(), 16);
                if (size == 0)
                {
                    while (true)
                    {
                        var trailer = await ReadLineAsync();
                        if (trailer is null) return -1;
                        if (trailer.Length == 0) return total;
                    }
                }
                if (await ReadExactAsync(size, hash, start) < 0) return -1;
                total += size;
                if (await ReadLineAsync() is not "") throw new FormatException("chunk data not followed by CRLF");
            }
        }
    }
}
