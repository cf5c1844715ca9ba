using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Appliance.Tls.OpenSsl;

/// <summary>
/// One libssl SSL_CTX: either the dispatch context every connection starts in (protocol and suite settings,
/// the SNI callback) or a certificate's context (the same settings plus leaf, intermediates and key), which
/// the SNI callback switches the connection to. Disposing drops our reference; a connection switched to the
/// context holds its own until it ends, so a context dropped by a snapshot change never breaks a handshake.
/// </summary>
internal sealed unsafe class ServingContext : SafeHandle
{
    /// <summary>
    /// TLS 1.3 suites; for TLS 1.2 only ECDHE key exchange with AEAD ciphers (forward secrecy, no CBC, no RSA key
    /// exchange). AES-128-GCM first, as Go's crypto/tls (Caddy) orders them: as strong in practice and cheaper per
    /// handshake, its key schedule hashing with SHA-256 (hardware-accelerated here) rather than SHA-384; a client
    /// that puts ChaCha20 first (no AES hardware) gets ChaCha20 (<see cref="LibSsl.OpPrioritizeChaCha"/>).
    /// </summary>
    internal const string Tls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
    internal const string Tls12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:" +
        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

    private ServingContext(nint handle) : base(0, ownsHandle: true) => SetHandle(handle);

    /// <summary>The certificate this context serves (null for the dispatch context): the key of its stapled OCSP response.</summary>
    public string? CertificateId { get; private init; }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        LibSsl.SSL_CTX_free(handle);
        return true;
    }

    /// <summary>A context with the appliance's TLS settings and no certificate.</summary>
    public static ServingContext CreateBare() => CreateBare(null);

    private static ServingContext CreateBare(string? certificateId)
    {
        var ctx = LibSsl.SSL_CTX_new(LibSsl.TLS_server_method());
        if (ctx == 0) throw new CryptographicException("libssl could not make a TLS context: " + LibSsl.LastError());
        var context = new ServingContext(ctx) { CertificateId = certificateId };
        try
        {
            Check(LibSsl.SSL_CTX_ctrl(ctx, LibSsl.CtrlSetMinProtoVersion, LibSsl.Tls12Version, 0) == 1, "set TLS 1.2 as the oldest protocol");
            Check(LibSsl.SSL_CTX_ctrl(ctx, LibSsl.CtrlSetMaxProtoVersion, LibSsl.Tls13Version, 0) == 1, "set TLS 1.3 as the newest protocol");
            Check(LibSsl.SSL_CTX_set_cipher_list(ctx, Tls12Ciphers) == 1, "set the TLS 1.2 ciphers");
            Check(LibSsl.SSL_CTX_set_ciphersuites(ctx, Tls13Suites) == 1, "set the TLS 1.3 suites");
            LibSsl.SSL_CTX_set_options(ctx, LibSsl.OpCipherServerPreference | LibSsl.OpPrioritizeChaCha | LibSsl.OpNoRenegotiation);
            // Resumption by session tickets only (stateless: no server-side cache to grow with the number of clients),
            // one ticket per handshake, sealed with the keys of TicketKeys (the dispatch context's callback). Each
            // certificate's context has its own session id context, which the ticket carries: a ticket made for one
            // certificate never resumes a handshake whose server name selects another (libssl compares the two).
            LibSsl.SSL_CTX_ctrl(ctx, LibSsl.CtrlSetSessionCacheMode, 0, 0);
            LibSsl.SSL_CTX_set_num_tickets(ctx, 1);
            var sessionContext = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(certificateId ?? "(dispatch)"));
            fixed (byte* id = sessionContext)
                Check(LibSsl.SSL_CTX_set_session_id_context(ctx, id, (uint)sessionContext.Length) == 1, "set the session id context");
            LibSsl.SSL_CTX_set_alpn_select_cb(ctx, (nint)(delegate* unmanaged<nint, byte**, byte*, byte*, uint, nint, int>)&SelectProtocol, 0);
            return context;
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A certificate's context: leaf (DER), key (PKCS#8 DER) and the intermediates sent with it, and the OCSP status
    /// callback (libssl calls the callback of the connection's current context, the one the SNI callback switched to).
    /// </summary>
    public static ServingContext Create(string certificateId, byte[] leaf, byte[] pkcs8, IReadOnlyList<byte[]> intermediates, nint statusCallback)
    {
        var context = CreateBare(certificateId);
        try
        {
            var ctx = context.handle;
            if (statusCallback != 0) LibSsl.SSL_CTX_callback_ctrl(ctx, LibOcsp.CtrlSetTlsExtStatusRequestCallback, statusCallback);
            var x509 = ParseCertificate(leaf);
            try { Check(LibSsl.SSL_CTX_use_certificate(ctx, x509) == 1, "use the certificate"); }
            finally { LibSsl.X509_free(x509); }
            foreach (var der in intermediates)
            {
                var intermediate = ParseCertificate(der);
                try { Check(LibSsl.SSL_CTX_ctrl(ctx, LibSsl.CtrlChainCert, 1, intermediate) == 1, "add an intermediate certificate to the chain"); }
                finally { LibSsl.X509_free(intermediate); }
            }
            nint key;
            fixed (byte* start = pkcs8)
            {
                var cursor = start;
                key = LibSsl.d2i_AutoPrivateKey(0, &cursor, pkcs8.Length);
            }
            Check(key != 0, "read the private key");
            try { Check(LibSsl.SSL_CTX_use_PrivateKey(ctx, key) == 1, "use the private key"); }
            finally { LibSsl.EVP_PKEY_free(key); }
            Check(LibSsl.SSL_CTX_check_private_key(ctx) == 1, "match the private key to the certificate");
            return context;
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static nint ParseCertificate(byte[] der)
    {
        fixed (byte* start = der)
        {
            var cursor = start;
            var x509 = LibSsl.d2i_X509(0, &cursor, der.Length);
            Check(x509 != 0, "read a certificate");
            return x509;
        }
    }

    private static void Check(bool ok, string what)
    {
        if (!ok) throw new CryptographicException($"libssl could not {what}: {LibSsl.LastError()}");
    }

    /// <summary>The protocols offered by ALPN in our order of preference, in wire form (length-prefixed), in native memory that never moves or goes away.</summary>
    private static readonly byte* Protocols = MakeProtocols();
    private const uint ProtocolsLength = 12;

    private static byte* MakeProtocols()
    {
        ReadOnlySpan<byte> wire = "\u0002h2\u0008http/1.1"u8;
        var memory = (byte*)NativeMemory.Alloc((nuint)wire.Length);
        wire.CopyTo(new Span<byte>(memory, wire.Length));
        return memory;
    }

    /// <summary>ALPN: HTTP/2 when the client offers it, else HTTP/1.1 when it offers that; otherwise no ALPN answer (the client then speaks HTTP/1.1 anyway or leaves).</summary>
    [UnmanagedCallersOnly]
    private static int SelectProtocol(nint ssl, byte** output, byte* outputLength, byte* clientProtocols, uint clientLength, nint arg)
    {
        const int Negotiated = 1;
        return LibSsl.SSL_select_next_proto(output, outputLength, Protocols, ProtocolsLength, clientProtocols, clientLength) == Negotiated
            ? LibSsl.TlsExtErrOk
            : LibSsl.TlsExtErrNoAck;
    }
}
