using System.IO.Pipelines;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using Appliance.Tls.Ocsp;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Appliance.Tls.OpenSsl;

/// <summary>
/// TLS for the HTTPS listener, as Kestrel connection middleware over libssl: each connection starts in the
/// dispatch context, whose ClientHello callback picks the certificate by the selection rules (server name and local
/// address) and switches the connection to that certificate's SSL_CTX, made once and kept. Sessions resume by
/// tickets sealed under <see cref="TicketKeys"/>; ALPN offers h2 and http/1.1. The TLS records
/// go through memory BIOs between Kestrel's socket pipes and the HTTP layer's input pipe and output writer, so the sockets, the
/// threads and HTTP stay Kestrel's; only the TLS state machine is libssl's own, one SSL_CTX per certificate
/// as nginx keeps them (the runtime's SslStream shares one process-wide SSL_CTX cache that is emptied every
/// 32 new contexts, so with many certificates nearly every handshake rebuilt one).
/// </summary>
internal sealed partial class TlsTermination : IDisposable
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);
    private readonly TlsCertificateSelector _selector;
    private readonly ILogger<TlsTermination> _logger;
    private readonly ServingContext _dispatch;
    private readonly OcspStapling _stapling;
    private readonly TicketKeys _tickets;

    public TlsTermination(TlsCertificateSelector selector, OcspStapling stapling, TicketKeys tickets, ILogger<TlsTermination> logger)
    {
        _selector = selector;
        _stapling = stapling;
        _tickets = tickets;
        _logger = logger;
        _dispatch = ServingContext.CreateBare();
        // Callbacks and the session timeout are read from the context a connection starts in, whichever context the
        // ClientHello callback then switches it to.
        unsafe
        {
            var ctx = _dispatch.DangerousGetHandle();
            LibSsl.SSL_CTX_set_client_hello_cb(ctx, (nint)(delegate* unmanaged<nint, int*, nint, int>)&OnClientHello, 0);
            LibSsl.SSL_CTX_callback_ctrl(ctx, LibSsl.CtrlSetTlsExtServerNameCallback, (nint)(delegate* unmanaged<nint, int*, nint, int>)&OnServerName);
            LibSsl.SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, (nint)(delegate* unmanaged<nint, byte*, byte*, nint, nint, int, int>)&OnTicketKey);
            LibSsl.SSL_CTX_set_timeout(ctx, (nint)tickets.Lifetime.TotalSeconds);
        }
    }

    public void Dispose() => _dispatch.Dispose();

    /// <summary>The handshake running on this thread: the SNI callback is called from inside SSL_do_handshake.</summary>
    [ThreadStatic] private static TlsSession? t_handshaking;

    public ConnectionDelegate Use(ConnectionDelegate next) => context => OnConnectionAsync(context, next);

    private async Task OnConnectionAsync(ConnectionContext context, ConnectionDelegate next)
    {
        var local = (context.LocalEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        using var session = TlsSession.Create(_dispatch, _selector, _stapling, _tickets, local);
        // Kestrel's own timeouts start with HTTP, after this middleware: a client that connects and never finishes
        // the handshake (or never sends a ClientHello) is cut off here, or it would hold its descriptor for good.
        using var handshakeTimeout = new CancellationTokenSource(HandshakeTimeout);
        var transport = context.Transport;
        string? failure;
        try
        {
            failure = await session.HandshakeAsync(transport, handshakeTimeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ConnectionAbortedException or ConnectionResetException)
        {
            failure = handshakeTimeout.IsCancellationRequested ? $"no complete handshake within {HandshakeTimeout.TotalSeconds:0} s" : e.Message;
        }
        if (failure is not null)
        {
            LogHandshakeFailed(_logger, context.ConnectionId, context.RemoteEndPoint?.ToString(),
                session.ServerName is null ? "(none)" : Hosting.LogText.Escape(session.ServerName), Hosting.LogText.Escape(failure));
            return;
        }

        var feature = new TlsFeature(session.ApplicationProtocol());
        context.Features.Set<ITlsConnectionFeature>(feature);
        context.Features.Set<ITlsApplicationProtocolFeature>(feature);
        var application = session.Start(transport);
        context.Transport = application;
        try
        {
            await next(context);
        }
        finally
        {
            context.Transport = transport;
            await session.StopAsync(transport);
        }
    }

    /// <summary>
    /// ClientHello callback, before libssl looks at a ticket or makes a session: reads the server name and switches the
    /// connection to the chosen certificate's context, so the session id context compared with a ticket's is already
    /// that certificate's (libssl's own SNI callback runs only after the ticket has been accepted).
    /// </summary>
    [UnmanagedCallersOnly]
    private static unsafe int OnClientHello(nint ssl, int* alert, nint arg)
    {
        var session = t_handshaking;
        if (session is null) { *alert = LibSsl.AlertInternalError; return LibSsl.ClientHelloError; }
        try
        {
            byte* extension;
            nuint length;
            var name = LibSsl.SSL_client_hello_get0_ext(ssl, LibSsl.TlsExtTypeServerName, &extension, &length) == 1 && length <= ushort.MaxValue + 2u
                ? ServerNameExtension.HostName(new ReadOnlySpan<byte>(extension, (int)length))
                : null;
            session.ServerName = name;
            for (var attempt = 0; ; attempt++)
            {
                var context = session.Selector.ContextFor(name, session.LocalAddress);
                if (context is null) { *alert = LibSsl.AlertInternalError; return LibSsl.ClientHelloError; }
                var added = false;
                try
                {
                    context.DangerousAddRef(ref added);
                    LibSsl.SSL_set_SSL_CTX(ssl, context.DangerousGetHandle());
                    session.CertificateId = context.CertificateId;
                    return LibSsl.ClientHelloSuccess;
                }
                catch (ObjectDisposedException) when (attempt == 0)
                {
                    // A snapshot change dropped that context just now: the next lookup finds its successor.
                }
                finally
                {
                    if (added) context.DangerousRelease();
                }
            }
        }
        catch (Exception e)
        {
            session.Failure = e.Message;
            *alert = LibSsl.AlertInternalError;
            return LibSsl.ClientHelloError;
        }
    }

    /// <summary>SNI callback: the ClientHello callback has chosen the certificate already; this only acknowledges the name.</summary>
    [UnmanagedCallersOnly]
    private static unsafe int OnServerName(nint ssl, int* alert, nint arg) => LibSsl.TlsExtErrOk;

    /// <summary>
    /// Session ticket keys (SSL_CTX_set_tlsext_ticket_key_evp_cb): to seal, name the current key, a fresh IV, AES-256-CBC
    /// and HMAC-SHA-256 under it; to open, find the key the ticket names: 1 when it is current (TLS 1.2), 2 when it is
    /// retired or the handshake is TLS 1.3 (libssl then issues a new ticket under the current key), 0 when none is (a
    /// full handshake, as for an expired ticket).
    /// </summary>
    [UnmanagedCallersOnly]
    private static unsafe int OnTicketKey(nint ssl, byte* keyName, byte* iv, nint cipher, nint mac, int encrypt)
    {
        const int NotFound = 0, Fatal = -1;
        try
        {
            var keys = t_handshaking?.Tickets;
            if (keys is null) return encrypt == 1 ? Fatal : NotFound;
            if (encrypt == 1)
            {
                var current = keys.Current;
                current.Name.CopyTo(new Span<byte>(keyName, TicketKeys.NameLength));
                System.Security.Cryptography.RandomNumberGenerator.Fill(new Span<byte>(iv, 16));
                return Initialise(current, iv, cipher, mac, encrypt: true) ? 1 : Fatal;
            }
            if (keys.Find(new ReadOnlySpan<byte>(keyName, TicketKeys.NameLength)) is not { } found) return NotFound;
            // 2 renews: always in TLS 1.3, where libssl sends no new ticket on a resumed handshake otherwise (the client
            // would reuse one ticket for ever, linking its connections), and for a ticket under a retired key.
            const int Ok = 1, OkRenew = 2;
            var renew = !found.IsCurrent || LibSsl.SSL_version(ssl) == LibSsl.Tls13Version;
            return Initialise(found.Key, iv, cipher, mac, encrypt: false) ? (renew ? OkRenew : Ok) : NotFound;
        }
        catch (Exception)
        {
            return encrypt == 1 ? Fatal : NotFound; // nothing may escape into libssl
        }
    }

    private static unsafe bool Initialise(TicketKeys.Key key, byte* iv, nint cipher, nint mac, bool encrypt)
    {
        fixed (byte* aes = key.Aes)
        fixed (byte* hmac = key.Hmac)
        fixed (byte* keyParameter = "key\0"u8)
        fixed (byte* digestParameter = "digest\0"u8)
        fixed (byte* sha256 = "SHA256\0"u8)
        {
            var initialised = encrypt
                ? LibSsl.EVP_EncryptInit_ex(cipher, LibSsl.EVP_aes_256_cbc(), 0, aes, iv)
                : LibSsl.EVP_DecryptInit_ex(cipher, LibSsl.EVP_aes_256_cbc(), 0, aes, iv);
            if (initialised != 1) return false;
            var parameters = stackalloc LibSsl.OsslParam[3];
            parameters[0] = new LibSsl.OsslParam { Key = keyParameter, DataType = LibSsl.OsslParamOctetString, Data = hmac, DataSize = TicketKeys.HmacKeyLength, ReturnSize = nuint.MaxValue };
            parameters[1] = new LibSsl.OsslParam { Key = digestParameter, DataType = LibSsl.OsslParamUtf8String, Data = sha256, DataSize = 6, ReturnSize = nuint.MaxValue };
            parameters[2] = default;
            return LibSsl.EVP_MAC_CTX_set_params(mac, parameters) == 1;
        }
    }

    /// <summary>The OCSP status callback every certificate context carries (see <see cref="ServingContext.Create"/>).</summary>
    internal static unsafe nint StatusCallback => (nint)(delegate* unmanaged<nint, nint, int>)&OnStatusRequest;

    /// <summary>
    /// The client asked for the certificate status (RFC 6066 section 8): staple the chosen certificate's response if
    /// one is ready. Reads memory only: fetching is the stapling service's job, so no handshake waits for a responder.
    /// </summary>
    [UnmanagedCallersOnly]
    private static unsafe int OnStatusRequest(nint ssl, nint arg)
    {
        try
        {
            var session = t_handshaking;
            if (session?.CertificateId is not { } id || session.Stapling.StapleFor(id) is not { } staple) return LibSsl.TlsExtErrNoAck;
            // libssl frees the response with OPENSSL_free, so it must come from OPENSSL_malloc.
            var copy = LibOcsp.CRYPTO_malloc((nuint)staple.Length, null, 0);
            if (copy is null) return LibSsl.TlsExtErrNoAck;
            staple.CopyTo(new Span<byte>(copy, staple.Length));
            LibOcsp.SSL_ctrl(ssl, LibOcsp.CtrlSetTlsExtStatusRequestOcspResponse, staple.Length, copy);
            return LibSsl.TlsExtErrOk;
        }
        catch (Exception)
        {
            return LibSsl.TlsExtErrNoAck; // nothing may escape into libssl; the handshake goes on without a staple
        }
    }

    /// <summary>One connection's libssl state, the read pump from the socket to the HTTP layer's input, and the writer that encrypts the HTTP layer's output in its flush.</summary>
    private sealed class TlsSession : IDisposable
    {
        private const int RecordBuffer = 16 * 1024 + 512;
        private static readonly PipeOptions ApplicationPipe = new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024, useSynchronizationContext: false);
        private readonly Lock _sync = new();
        private nint _ssl;
        private nint _readBio;
        private nint _writeBio;
        private bool _biosOwnedBySsl;
        private Pipe? _input;
        private TlsWriter? _writer;
        private Task _readPump = Task.CompletedTask;

        private TlsSession(TlsCertificateSelector selector, OcspStapling stapling, TicketKeys tickets, IPAddress localAddress)
        {
            Selector = selector;
            Stapling = stapling;
            Tickets = tickets;
            LocalAddress = localAddress;
        }

        public TicketKeys Tickets { get; }

        public TlsCertificateSelector Selector { get; }
        public OcspStapling Stapling { get; }
        /// <summary>The certificate the ClientHello callback chose: its stapled response is sent.</summary>
        public string? CertificateId { get; set; }
        public IPAddress LocalAddress { get; }
        /// <summary>The client's SNI, for the log line of a failed handshake.</summary>
        public string? ServerName { get; set; }
        public string? Failure { get; set; }

        public static TlsSession Create(ServingContext dispatch, TlsCertificateSelector selector, OcspStapling stapling, TicketKeys tickets, IPAddress localAddress)
        {
            var session = new TlsSession(selector, stapling, tickets, localAddress);
            session._ssl = LibSsl.SSL_new(dispatch.DangerousGetHandle());
            if (session._ssl == 0) throw new IOException("libssl could not start a TLS connection: " + LibSsl.LastError());
            session._readBio = LibSsl.BIO_new(LibSsl.BIO_s_mem());
            session._writeBio = LibSsl.BIO_new(LibSsl.BIO_s_mem());
            if (session._readBio == 0 || session._writeBio == 0)
            {
                session.Dispose();
                throw new IOException("libssl could not make the connection's buffers: " + LibSsl.LastError());
            }
            LibSsl.SSL_set_bio(session._ssl, session._readBio, session._writeBio);
            session._biosOwnedBySsl = true;
            LibSsl.SSL_set_accept_state(session._ssl);
            return session;
        }

        /// <summary>The protocol ALPN chose ("h2" or "http/1.1"); HTTP/1.1 when the client offered none.</summary>
        public unsafe ReadOnlyMemory<byte> ApplicationProtocol()
        {
            byte* data;
            uint length;
            LibSsl.SSL_get0_alpn_selected(_ssl, &data, &length);
            return length == 2 && data[0] == (byte)'h' && data[1] == (byte)'2' ? TlsFeature.Http2 : TlsFeature.Http11;
        }

        /// <summary>Runs the handshake over the socket pipes; null when done, else why it failed.</summary>
        public async Task<string?> HandshakeAsync(IDuplexPipe transport, CancellationToken timeout)
        {
            while (true)
            {
                int result, error;
                t_handshaking = this;
                try
                {
                    result = LibSsl.SSL_do_handshake(_ssl);
                    error = result == 1 ? 0 : LibSsl.SSL_get_error(_ssl, result);
                }
                finally
                {
                    t_handshaking = null;
                }
                var failure = error is 0 or LibSsl.ErrorWantRead ? null : Failure ?? DescribeFailure(error);
                // Send what libssl wrote (server flight, or the alert that ends a failed handshake).
                if (DrainTo(transport.Output))
                {
                    var flushed = await transport.Output.FlushAsync(timeout);
                    if (flushed.IsCompleted) return failure ?? "the client closed the connection";
                }
                if (failure is not null) return failure;
                if (result == 1) return null;

                var read = await transport.Input.ReadAsync(timeout);
                var buffer = read.Buffer;
                if (buffer.IsEmpty && read.IsCompleted) return "the client closed the connection during the handshake";
                Feed(buffer);
                transport.Input.AdvanceTo(buffer.End);
            }
        }

        private static string DescribeFailure(int error)
        {
            var detail = LibSsl.LastError();
            return error == LibSsl.ErrorSyscall ? "the connection ended during the handshake" : detail;
        }

        /// <summary>
        /// Starts the read pump; returns the plaintext pair the HTTP layer reads and writes. Writes need no pump: the
        /// writer encrypts in the HTTP layer's own flush, straight into the socket's pipe.
        /// </summary>
        public IDuplexPipe Start(IDuplexPipe transport)
        {
            _input = new Pipe(ApplicationPipe);
            _writer = new TlsWriter(this, transport.Output);
            _readPump = ReadPumpAsync(transport);
            return new DuplexPipe(_input.Reader, _writer);
        }

        /// <summary>After the HTTP layer is done: its last bytes (if any were left unflushed) and close_notify, then stop reading.</summary>
        public async Task StopAsync(IDuplexPipe transport)
        {
            if (_writer is null || _input is null) return;
            try
            {
                lock (_sync)
                {
                    _writer.EncryptPending();
                    LibSsl.SSL_shutdown(_ssl);
                    LibSsl.ERR_clear_error();
                    DrainTo(transport.Output);
                }
                await transport.Output.FlushAsync();
            }
            catch (Exception)
            {
                // the peer went away (or TLS failed): nothing left to send
            }
            finally
            {
                _writer.Release();
            }
            // Releases a read pump waiting for the HTTP layer to read; it then lingers (LingerAsync) until the client
            // closes, or for LingerTime at most.
            await _input.Reader.CompleteAsync();
            using var linger = new CancellationTokenSource(LingerTime);
            using var stop = linger.Token.Register(static input => ((PipeReader)input!).CancelPendingRead(), transport.Input);
            try { await _readPump; } catch (Exception) { /* likewise */ }
        }

        /// <summary>How long a closing connection still reads (and discards) what the client sends, and how much at most.</summary>
        public static readonly TimeSpan LingerTime = TimeSpan.FromSeconds(2);
        public const long LingerBytes = 1 << 20;

        /// <summary>
        /// Lingering close, as nginx's: the HTTP layer is done (an answer such as 413 sent, close_notify after it) but
        /// the client may still be sending a request body; closing the socket with its bytes unread makes the kernel
        /// reset the connection, and the client would see the reset instead of the answer. So what it sends is read
        /// and discarded until it closes, for <see cref="LingerTime"/> or <see cref="LingerBytes"/> at most.
        /// </summary>
        private static async Task LingerAsync(PipeReader input)
        {
            long discarded = 0;
            while (discarded < LingerBytes)
            {
                var read = await input.ReadAsync();
                discarded += read.Buffer.Length;
                input.AdvanceTo(read.Buffer.End);
                if (read.IsCanceled || read.IsCompleted) return;
            }
        }

        /// <summary>Socket → libssl → plaintext pipe, until the client closes or sends close_notify.</summary>
        private async Task ReadPumpAsync(IDuplexPipe transport)
        {
            var writer = _input!.Writer;
            Exception? error = null;
            try
            {
                var ended = false;
                while (true)
                {
                    // First round: records that came in with the client's last handshake message are already fed.
                    // What libssl answers on its own while reading (a key update) leaves with the next write.
                    bool closed;
                    lock (_sync) closed = Decrypt(writer);
                    var flushed = await writer.FlushAsync();
                    if (closed || ended) break;
                    if (flushed.IsCompleted)
                    {
                        await LingerAsync(transport.Input);
                        break;
                    }

                    var read = await transport.Input.ReadAsync();
                    if (read.IsCanceled) break;
                    var buffer = read.Buffer;
                    lock (_sync) Feed(buffer);
                    transport.Input.AdvanceTo(buffer.End);
                    ended = read.IsCompleted;
                }
            }
            catch (Exception e)
            {
                error = e;
            }
            await writer.CompleteAsync(error);
        }

        /// <summary>Decrypts every complete record fed so far into the pipe; true when the client sent close_notify; throws when TLS fails.</summary>
        private unsafe bool Decrypt(PipeWriter writer)
        {
            while (true)
            {
                var span = writer.GetSpan(RecordBuffer);
                int ok;
                nuint count;
                fixed (byte* target = span) ok = LibSsl.SSL_read_ex(_ssl, target, (nuint)span.Length, out count);
                if (ok == 1)
                {
                    writer.Advance((int)count);
                    continue;
                }
                var error = LibSsl.SSL_get_error(_ssl, ok);
                if (error == LibSsl.ErrorWantRead) return false;
                if (error != LibSsl.ErrorZeroReturn) throw new IOException("TLS failed: " + LibSsl.LastError());
                return true;
            }
        }

        /// <summary>
        /// The HTTP layer's writer: plaintext gathers in one pooled buffer and is encrypted into 16 KiB records when the
        /// buffer fills or the HTTP layer flushes; the records go into the socket's pipe and that pipe's flush (with its
        /// backpressure) is the answer to the HTTP layer's flush. The HTTP layer never writes from two threads at once
        /// (HTTP/1.1's output producer and HTTP/2's frame writer each hold a lock); the lock here orders writes against
        /// the read pump's SSL_read. The buffer goes back to the pool after every flush, so an idle connection holds none.
        /// </summary>
        private sealed class TlsWriter(TlsSession session, PipeWriter transport) : PipeWriter
        {
            private const int Chunk = 16 * 1024;
            private byte[]? _buffer;
            private int _written;
            private int _used;

            public override Memory<byte> GetMemory(int sizeHint = 0)
            {
                var need = Math.Max(sizeHint, 1);
                if (_buffer is not null && _buffer.Length - _written >= need) return _buffer.AsMemory(_written);
                if (_written > 0)
                {
                    lock (session._sync)
                    {
                        EncryptPending();
                        session.DrainTo(transport);
                    }
                }
                if (_buffer is null || _buffer.Length < need)
                {
                    Release();
                    _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(Chunk, need));
                }
                return _buffer.AsMemory(0);
            }

            public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

            public override void Advance(int bytes)
            {
                if (bytes < 0 || _buffer is null || bytes > _buffer.Length - _written) throw new ArgumentOutOfRangeException(nameof(bytes));
                _written += bytes;
                _used = Math.Max(_used, _written);
            }

            public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
            {
                lock (session._sync)
                {
                    EncryptPending();
                    session.DrainTo(transport);
                }
                Release();
                return transport.FlushAsync(cancellationToken);
            }

            public override void CancelPendingFlush() => transport.CancelPendingFlush();

            /// <summary>Kestrel's HTTP/1.1 producer forwards these to the serializers, which flush on them.</summary>
            public override bool CanGetUnflushedBytes => true;

            /// <summary>Plaintext gathered here and records not yet flushed into the socket (record overhead counted as data).</summary>
            public override long UnflushedBytes => _written + (transport.CanGetUnflushedBytes ? transport.UnflushedBytes : 0);

            /// <summary>The session's StopAsync sends what is left and close_notify once the HTTP layer is done.</summary>
            public override void Complete(Exception? exception = null)
            {
            }

            /// <summary>Encrypts the gathered plaintext; the caller holds the session's lock.</summary>
            public void EncryptPending()
            {
                if (_written == 0) return;
                session.Encrypt(_buffer.AsSpan(0, _written));
                _written = 0;
            }

            /// <summary>Returns the buffer to the pool, wiped (it held plaintext); nothing may be pending.</summary>
            public void Release()
            {
                if (_buffer is null || _written > 0) return;
                _buffer.AsSpan(0, _used).Clear();
                System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
                _used = 0;
            }
        }

        private unsafe void Encrypt(ReadOnlySpan<byte> plaintext)
        {
            while (!plaintext.IsEmpty)
            {
                nuint written;
                int ok;
                fixed (byte* source = plaintext) ok = LibSsl.SSL_write_ex(_ssl, source, (nuint)plaintext.Length, out written);
                if (ok != 1) throw new IOException("TLS failed: " + LibSsl.LastError());
                plaintext = plaintext[(int)written..];
            }
        }

        /// <summary>Hands received TLS bytes to libssl (a memory BIO takes all of them).</summary>
        private unsafe void Feed(in System.Buffers.ReadOnlySequence<byte> buffer)
        {
            foreach (var segment in buffer)
            {
                fixed (byte* source = segment.Span)
                    if (LibSsl.BIO_write(_readBio, source, segment.Length) != segment.Length)
                        throw new IOException("libssl refused received bytes: " + LibSsl.LastError());
            }
        }

        /// <summary>Moves what libssl wrote into the socket pipe; true when there was anything.</summary>
        private unsafe bool DrainTo(PipeWriter output)
        {
            var any = false;
            nuint pending;
            while ((pending = LibSsl.BIO_ctrl_pending(_writeBio)) > 0)
            {
                var span = output.GetSpan((int)Math.Min(pending, 64 * 1024));
                int count;
                fixed (byte* target = span) count = LibSsl.BIO_read(_writeBio, target, span.Length);
                if (count <= 0) break;
                output.Advance(count);
                any = true;
            }
            return any;
        }

        public void Dispose()
        {
            if (!_biosOwnedBySsl)
            {
                if (_readBio != 0) LibSsl.BIO_free(_readBio);
                if (_writeBio != 0) LibSsl.BIO_free(_writeBio);
            }
            if (_ssl != 0) LibSsl.SSL_free(_ssl); // with the BIOs it owns
            _ssl = _readBio = _writeBio = 0;
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    /// <summary>Marks the connection as HTTPS for the HTTP layer (scheme, secure cookies, HSTS).</summary>
    private sealed class TlsFeature(ReadOnlyMemory<byte> applicationProtocol) : ITlsConnectionFeature, ITlsApplicationProtocolFeature
    {
        public static readonly ReadOnlyMemory<byte> Http11 = "http/1.1"u8.ToArray();
        public static readonly ReadOnlyMemory<byte> Http2 = "h2"u8.ToArray();
        public X509Certificate2? ClientCertificate { get; set; }
        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);
        public ReadOnlyMemory<byte> ApplicationProtocol => applicationProtocol;
    }

    [LoggerMessage(EventId = EventIds.Tls.HandshakeFailed, Level = LogLevel.Debug, Message = "TLS handshake {ConnectionId} from {Remote} (server name {ServerName}) failed: {Reason}")]
    private static partial void LogHandshakeFailed(ILogger logger, string connectionId, string? remote, string serverName, string reason);
}
