using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Appliance.Tls.OpenSsl;

namespace Appliance.Tls.Ocsp;

/// <summary>Why an OCSP response was not stapled.</summary>
internal enum OcspFailure { Transport, Malformed, Unsuccessful, NoStatusForCertificate, SignatureInvalid, NotCurrent, Revoked, Unknown }

/// <summary>An OCSP exchange that gave nothing to staple, with the reason and a message naming the values.</summary>
internal sealed class OcspException(OcspFailure reason, string message) : Exception(message)
{
    public OcspFailure Reason { get; } = reason;
}

/// <summary>
/// The two ends of one OCSP exchange (RFC 6960) as functions over bytes: the request to POST, and the check of what came
/// back. Both use libcrypto's OCSP code rather than our own ASN.1: the request is small either way, but verifying the
/// response means checking a signature by the issuer or by a delegated responder certificate (issued by the issuer,
/// id-kp-OCSPSigning, section 4.2.2.2) with any key type the CA uses, which libcrypto already does as nginx relies on it.
/// </summary>
internal static unsafe class OcspExchange
{
    /// <summary>RFC 6960 4.2.2.1 leaves clock skew to local policy; OpenSSL and nginx allow five minutes on thisUpdate.</summary>
    internal static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>The DER OCSPRequest for the leaf: one CertID (SHA-1 issuerNameHash, issuerKeyHash, serial), no nonce (responses are cached and shared).</summary>
    public static byte[] BuildRequest(X509Certificate2 leaf, X509Certificate2 issuer)
    {
        using var subject = Native.Parse(leaf);
        using var ca = Native.Parse(issuer);
        var request = LibOcsp.OCSP_REQUEST_new();
        if (request == 0) throw new InvalidOperationException("libcrypto could not make an OCSP request: " + LibSsl.LastError());
        try
        {
            var id = NewCertId(subject, ca);
            if (LibOcsp.OCSP_request_add0_id(request, id) == 0)
            {
                LibOcsp.OCSP_CERTID_free(id);
                throw new InvalidOperationException("libcrypto could not add the certificate to the OCSP request: " + LibSsl.LastError());
            }
            var length = LibOcsp.i2d_OCSP_REQUEST(request, null);
            if (length <= 0) throw new InvalidOperationException("libcrypto could not encode the OCSP request: " + LibSsl.LastError());
            var der = new byte[length];
            fixed (byte* start = der)
            {
                var cursor = start;
                LibOcsp.i2d_OCSP_REQUEST(request, &cursor);
            }
            return der;
        }
        finally
        {
            LibOcsp.OCSP_REQUEST_free(request);
        }
    }

    /// <summary>
    /// Accepts <paramref name="der"/> only when it is a successful response whose signature verifies against the issuer
    /// (directly or through a delegated responder), that has a status for this leaf's CertID, is current at
    /// <paramref name="now"/> and says "good" (as nginx: a revoked or unknown status is not stapled); throws otherwise.
    /// </summary>
    public static OcspResponse Verify(byte[] der, X509Certificate2 leaf, X509Certificate2 issuer, DateTimeOffset now)
    {
        using var subject = Native.Parse(leaf);
        using var ca = Native.Parse(issuer);
        nint response;
        fixed (byte* start = der)
        {
            var cursor = start;
            response = LibOcsp.d2i_OCSP_RESPONSE(0, &cursor, der.Length);
        }
        if (response == 0) { LibSsl.ERR_clear_error(); throw new OcspException(OcspFailure.Malformed, $"the responder's answer ({der.Length} bytes) is not an OCSP response"); }
        nint basic = 0, store = 0, trusted = 0, id = 0;
        try
        {
            var status = LibOcsp.OCSP_response_status(response);
            if (status != LibOcsp.ResponseStatusSuccessful)
                throw new OcspException(OcspFailure.Unsuccessful, $"the responder answered {ResponseStatusName(status)} ({status})");
            basic = LibOcsp.OCSP_response_get1_basic(response);
            if (basic == 0) throw new OcspException(OcspFailure.Malformed, "the response carries no basic OCSP response: " + LibSsl.LastError());

            // The issuer is the one trust anchor (partial chain: it need not be self-signed). Found among `trusted`, a
            // signature by the issuer itself is accepted as is (TRUSTOTHER); a delegated responder certificate carried in
            // the response is chain-checked up to the issuer, and OpenSSL then requires it to be issued by the CertID's
            // issuer with id-kp-OCSPSigning.
            store = LibOcsp.X509_STORE_new();
            trusted = LibOcsp.OPENSSL_sk_new_null();
            if (store == 0 || trusted == 0 || LibOcsp.X509_STORE_add_cert(store, ca.Handle) != 1
                || LibOcsp.X509_STORE_set_flags(store, LibOcsp.X509PartialChain) != 1 || LibOcsp.OPENSSL_sk_push(trusted, ca.Handle) <= 0)
                throw new InvalidOperationException("libcrypto could not prepare the OCSP verification: " + LibSsl.LastError());
            if (LibOcsp.OCSP_basic_verify(basic, trusted, store, LibOcsp.TrustOther) != 1)
                throw new OcspException(OcspFailure.SignatureInvalid, "the response's signature does not verify against the issuer "
                    + $"'{issuer.Subject}' or a responder it delegated to: {LibSsl.LastError()}");

            id = NewCertId(subject, ca);
            if (LibOcsp.OCSP_resp_find_status(basic, id, out var certificateStatus, out _, out _, out var thisUpdateTime, out var nextUpdateTime) != 1)
                throw new OcspException(OcspFailure.NoStatusForCertificate, $"the response has no status for serial {leaf.SerialNumber}");
            var thisUpdate = ToDateTime(thisUpdateTime) ?? throw new OcspException(OcspFailure.Malformed, "the response's thisUpdate cannot be read");
            DateTimeOffset? nextUpdate = nextUpdateTime == 0 ? null
                : ToDateTime(nextUpdateTime) ?? throw new OcspException(OcspFailure.Malformed, "the response's nextUpdate cannot be read");
            if (thisUpdate > now + ClockSkew)
                throw new OcspException(OcspFailure.NotCurrent, $"the response is from the future (thisUpdate {Text(thisUpdate)}, now {Text(now)}): check the clock");
            if (nextUpdate is { } next && next <= now)
                throw new OcspException(OcspFailure.NotCurrent, $"the response expired at {Text(next)} (now {Text(now)})");
            if (certificateStatus == LibOcsp.CertStatusRevoked)
                throw new OcspException(OcspFailure.Revoked, $"the responder says serial {leaf.SerialNumber} is revoked");
            if (certificateStatus != LibOcsp.CertStatusGood)
                throw new OcspException(OcspFailure.Unknown, $"the responder does not know serial {leaf.SerialNumber}");
            return new OcspResponse(der, thisUpdate, nextUpdate);
        }
        finally
        {
            if (id != 0) LibOcsp.OCSP_CERTID_free(id);
            if (trusted != 0) LibOcsp.OPENSSL_sk_free(trusted); // the stack only; the certificate is ca's
            if (store != 0) LibOcsp.X509_STORE_free(store);
            if (basic != 0) LibOcsp.OCSP_BASICRESP_free(basic);
            LibOcsp.OCSP_RESPONSE_free(response);
            LibSsl.ERR_clear_error();
        }
    }

    private static string Text(DateTimeOffset time) => time.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>RFC 6960 4.2.1 OCSPResponseStatus names.</summary>
    private static string ResponseStatusName(int status) => status switch
    {
        1 => "malformedRequest",
        2 => "internalError",
        3 => "tryLater",
        5 => "sigRequired",
        6 => "unauthorized",
        _ => "an unknown status",
    };

    private static nint NewCertId(Native subject, Native issuer)
    {
        // A null digest means SHA-1, which RFC 6960 responders must support (and RFC 5019 lightweight ones require).
        var id = LibOcsp.OCSP_cert_to_id(0, subject.Handle, issuer.Handle);
        if (id == 0) throw new InvalidOperationException("libcrypto could not make the OCSP CertID: " + LibSsl.LastError());
        return id;
    }

    private static DateTimeOffset? ToDateTime(nint time)
    {
        if (LibOcsp.ASN1_TIME_to_tm(time, out var tm) != 1) return null;
        try
        {
            return new DateTimeOffset(tm.Year + 1900, tm.Month + 1, tm.Day, tm.Hour, tm.Minute, Math.Min(tm.Second, 59), TimeSpan.Zero);
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>An X509 parsed from a certificate's DER, freed on dispose.</summary>
    private readonly struct Native : IDisposable
    {
        private Native(nint handle) => Handle = handle;
        public nint Handle { get; }

        public static Native Parse(X509Certificate2 certificate)
        {
            var der = certificate.RawData;
            fixed (byte* start = der)
            {
                var cursor = start;
                var x509 = LibSsl.d2i_X509(0, &cursor, der.Length);
                if (x509 == 0) throw new InvalidOperationException("libcrypto could not read the certificate: " + LibSsl.LastError());
                return new Native(x509);
            }
        }

        public void Dispose() => LibSsl.X509_free(Handle);
    }
}
