using System.Runtime.InteropServices;

namespace Appliance.Tls.OpenSsl;

/// <summary>
/// The few libssl/libcrypto 3 entry points the TLS data path calls directly (the same libraries .NET itself loads
/// on Linux). Macros of the C headers (SSL_CTX_set_min_proto_version, SSL_CTX_add1_chain_cert, ...) are their
/// ctrl calls with the command numbers from ssl.h.
/// </summary>
internal static unsafe partial class LibSsl
{
    private const string Ssl = "libssl.so.3";
    private const string Crypto = "libcrypto.so.3";

    public const int Tls12Version = 0x0303;
    public const int Tls13Version = 0x0304;

    public const int CtrlSetSessionCacheMode = 44;
    public const int CtrlSetTlsExtServerNameCallback = 53;
    public const int CtrlChainCert = 89;
    public const int CtrlSetMinProtoVersion = 123;
    public const int CtrlSetMaxProtoVersion = 124;

    public const ulong OpPrioritizeChaCha = 0x00200000;
    public const ulong OpCipherServerPreference = 0x00400000;
    public const ulong OpNoRenegotiation = 0x40000000;

    public const int ErrorSsl = 1;
    public const int ErrorWantRead = 2;
    public const int ErrorSyscall = 5;
    public const int ErrorZeroReturn = 6;

    public const int TlsExtErrOk = 0;
    public const int TlsExtErrAlertFatal = 2;
    public const int TlsExtErrNoAck = 3;
    public const int AlertInternalError = 80;
    public const uint TlsExtTypeServerName = 0;
    public const int ClientHelloSuccess = 1;
    public const int ClientHelloError = 0;
    public const int MaxSessionIdContextLength = 32;

    public const uint OsslParamUtf8String = 4;
    public const uint OsslParamOctetString = 5;

    /// <summary>OpenSSL 3's OSSL_PARAM (core.h): one named, typed value; an array ends with an all-zero one.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct OsslParam
    {
        public byte* Key;
        public uint DataType;
        public void* Data;
        public nuint DataSize;
        public nuint ReturnSize;
    }

    [LibraryImport(Ssl)] public static partial nint TLS_server_method();
    [LibraryImport(Ssl)] public static partial nint SSL_CTX_new(nint method);
    [LibraryImport(Ssl)] public static partial void SSL_CTX_free(nint ctx);
    [LibraryImport(Ssl)] public static partial nint SSL_CTX_ctrl(nint ctx, int command, nint larg, nint parg);
    [LibraryImport(Ssl)] public static partial nint SSL_CTX_callback_ctrl(nint ctx, int command, nint callback);
    [LibraryImport(Ssl)] public static partial ulong SSL_CTX_set_options(nint ctx, ulong options);
    [LibraryImport(Ssl)] public static partial int SSL_CTX_set_num_tickets(nint ctx, nuint count);
    [LibraryImport(Ssl, StringMarshalling = StringMarshalling.Utf8)] public static partial int SSL_CTX_set_cipher_list(nint ctx, string ciphers);
    [LibraryImport(Ssl, StringMarshalling = StringMarshalling.Utf8)] public static partial int SSL_CTX_set_ciphersuites(nint ctx, string suites);
    [LibraryImport(Ssl)] public static partial int SSL_CTX_use_certificate(nint ctx, nint x509);
    [LibraryImport(Ssl)] public static partial int SSL_CTX_use_PrivateKey(nint ctx, nint key);
    [LibraryImport(Ssl)] public static partial int SSL_CTX_check_private_key(nint ctx);
    [LibraryImport(Ssl)] public static partial void SSL_CTX_set_alpn_select_cb(nint ctx, nint callback, nint arg);
    [LibraryImport(Ssl)] public static partial void SSL_CTX_set_client_hello_cb(nint ctx, nint callback, nint arg);
    [LibraryImport(Ssl)] public static partial int SSL_CTX_set_tlsext_ticket_key_evp_cb(nint ctx, nint callback);
    [LibraryImport(Ssl)] public static partial int SSL_CTX_set_session_id_context(nint ctx, byte* context, uint length);
    [LibraryImport(Ssl)] public static partial nint SSL_CTX_set_timeout(nint ctx, nint seconds);

    [LibraryImport(Ssl)] public static partial nint SSL_new(nint ctx);
    [LibraryImport(Ssl)] public static partial void SSL_free(nint ssl);
    [LibraryImport(Ssl)] public static partial void SSL_set_bio(nint ssl, nint readBio, nint writeBio);
    [LibraryImport(Ssl)] public static partial void SSL_set_accept_state(nint ssl);
    [LibraryImport(Ssl)] public static partial int SSL_do_handshake(nint ssl);
    [LibraryImport(Ssl)] public static partial int SSL_read_ex(nint ssl, byte* buffer, nuint count, out nuint read);
    [LibraryImport(Ssl)] public static partial int SSL_write_ex(nint ssl, byte* buffer, nuint count, out nuint written);
    [LibraryImport(Ssl)] public static partial int SSL_get_error(nint ssl, int result);
    [LibraryImport(Ssl)] public static partial int SSL_shutdown(nint ssl);
    [LibraryImport(Ssl)] public static partial nint SSL_set_SSL_CTX(nint ssl, nint ctx);
    [LibraryImport(Ssl)] public static partial int SSL_client_hello_get0_ext(nint ssl, uint type, byte** data, nuint* length);
    [LibraryImport(Ssl)] public static partial void SSL_get0_alpn_selected(nint ssl, byte** data, uint* length);
    [LibraryImport(Ssl)] public static partial int SSL_version(nint ssl);
    [LibraryImport(Ssl)] public static partial int SSL_select_next_proto(byte** output, byte* outputLength, byte* serverProtocols, uint serverLength, byte* clientProtocols, uint clientLength);

    [LibraryImport(Crypto)] public static partial nint BIO_s_mem();
    [LibraryImport(Crypto)] public static partial nint BIO_new(nint method);
    [LibraryImport(Crypto)] public static partial int BIO_free(nint bio);
    [LibraryImport(Crypto)] public static partial int BIO_write(nint bio, byte* data, int length);
    [LibraryImport(Crypto)] public static partial int BIO_read(nint bio, byte* data, int length);
    [LibraryImport(Crypto)] public static partial nuint BIO_ctrl_pending(nint bio);
    [LibraryImport(Crypto)] public static partial nint d2i_X509(nint reuse, byte** input, nint length);
    [LibraryImport(Crypto)] public static partial void X509_free(nint x509);
    [LibraryImport(Crypto)] public static partial nint d2i_AutoPrivateKey(nint reuse, byte** input, nint length);
    [LibraryImport(Crypto)] public static partial void EVP_PKEY_free(nint key);
    [LibraryImport(Crypto)] public static partial nint EVP_aes_256_cbc();
    [LibraryImport(Crypto)] public static partial int EVP_EncryptInit_ex(nint ctx, nint cipher, nint engine, byte* key, byte* iv);
    [LibraryImport(Crypto)] public static partial int EVP_DecryptInit_ex(nint ctx, nint cipher, nint engine, byte* key, byte* iv);
    [LibraryImport(Crypto)] public static partial int EVP_MAC_CTX_set_params(nint ctx, OsslParam* parameters);
    [LibraryImport(Crypto)] public static partial ulong ERR_get_error();
    [LibraryImport(Crypto)] public static partial void ERR_clear_error();
    [LibraryImport(Crypto)] public static partial void ERR_error_string_n(ulong error, byte* buffer, nuint length);

    /// <summary>The oldest queued OpenSSL error in words (the queue is then cleared), for log lines.</summary>
    public static string LastError()
    {
        var code = ERR_get_error();
        ERR_clear_error();
        if (code == 0) return "no OpenSSL error queued";
        var buffer = stackalloc byte[256];
        ERR_error_string_n(code, buffer, 256);
        return Marshal.PtrToStringUTF8((nint)buffer) ?? code.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
    }
}
