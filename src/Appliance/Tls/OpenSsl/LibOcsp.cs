using System.Runtime.InteropServices;

namespace Appliance.Tls.OpenSsl;

/// <summary>
/// libcrypto's OCSP client functions (RFC 6960) and the X509_STORE/stack calls their verification needs, plus the libssl
/// calls that staple a response. Stack macros (sk_X509_new_null, sk_X509_push) are the OPENSSL_sk_* functions.
/// </summary>
internal static unsafe partial class LibOcsp
{
    private const string Ssl = "libssl.so.3";
    private const string Crypto = "libcrypto.so.3";

    public const int CtrlSetTlsExtStatusRequestCallback = 63;
    public const int CtrlSetTlsExtStatusRequestOcspResponse = 71;

    public const int ResponseStatusSuccessful = 0;
    public const int CertStatusGood = 0;
    public const int CertStatusRevoked = 1;
    public const ulong TrustOther = 0x200;
    public const ulong X509PartialChain = 0x80000;

    [LibraryImport(Crypto)] public static partial nint OCSP_cert_to_id(nint digest, nint subject, nint issuer);
    [LibraryImport(Crypto)] public static partial void OCSP_CERTID_free(nint id);
    [LibraryImport(Crypto)] public static partial nint OCSP_REQUEST_new();
    [LibraryImport(Crypto)] public static partial void OCSP_REQUEST_free(nint request);
    [LibraryImport(Crypto)] public static partial nint OCSP_request_add0_id(nint request, nint id);
    [LibraryImport(Crypto)] public static partial int i2d_OCSP_REQUEST(nint request, byte** output);
    [LibraryImport(Crypto)] public static partial nint d2i_OCSP_RESPONSE(nint reuse, byte** input, nint length);
    [LibraryImport(Crypto)] public static partial void OCSP_RESPONSE_free(nint response);
    [LibraryImport(Crypto)] public static partial int OCSP_response_status(nint response);
    [LibraryImport(Crypto)] public static partial nint OCSP_response_get1_basic(nint response);
    [LibraryImport(Crypto)] public static partial void OCSP_BASICRESP_free(nint basic);
    [LibraryImport(Crypto)] public static partial int OCSP_resp_find_status(nint basic, nint id, out int status, out int reason, out nint revoked, out nint thisUpdate, out nint nextUpdate);
    [LibraryImport(Crypto)] public static partial int OCSP_basic_verify(nint basic, nint certificates, nint store, ulong flags);
    [LibraryImport(Crypto)] public static partial int ASN1_TIME_to_tm(nint time, out Tm tm);
    [LibraryImport(Crypto)] public static partial nint X509_STORE_new();
    [LibraryImport(Crypto)] public static partial void X509_STORE_free(nint store);
    [LibraryImport(Crypto)] public static partial int X509_STORE_add_cert(nint store, nint x509);
    [LibraryImport(Crypto)] public static partial int X509_STORE_set_flags(nint store, ulong flags);
    [LibraryImport(Crypto)] public static partial nint OPENSSL_sk_new_null();
    [LibraryImport(Crypto)] public static partial int OPENSSL_sk_push(nint stack, nint item);
    [LibraryImport(Crypto)] public static partial void OPENSSL_sk_free(nint stack);
    [LibraryImport(Crypto)] public static partial void* CRYPTO_malloc(nuint size, byte* file, int line);
    [LibraryImport(Crypto)] public static partial void CRYPTO_free(void* memory, byte* file, int line);
    [LibraryImport(Ssl)] public static partial nint SSL_ctrl(nint ssl, int command, nint larg, void* parg);

    /// <summary>glibc's struct tm (x86-64 and arm64 alike: nine ints, a long and a pointer).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Tm
    {
        public int Second, Minute, Hour, Day, Month, Year, WeekDay, YearDay, IsDst;
        public nint GmtOffset;
        public nint Zone;
    }
}
