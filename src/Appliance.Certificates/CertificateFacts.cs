using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates.Formats;

namespace Appliance.Certificates;

/// <summary>What the certificates table shows of one X.509 certificate, read once from its DER.</summary>
public sealed record CertificateFacts(
    string Subject,
    string Issuer,
    string? CommonName,
    IReadOnlyList<string> SubjectAlternativeNames,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    string SerialNumber,
    string Sha256Fingerprint,
    KeyAlgorithm? KeyAlgorithm,
    int KeySize,
    bool IsCertificateAuthority,
    bool IsSelfSigned,
    string PublicKeySha256)
{
    public static CertificateFacts Read(X509Certificate2 certificate)
    {
        var (algorithm, size) = DescribeKey(certificate);
        return new CertificateFacts(
            certificate.Subject,
            certificate.Issuer,
            NullIfEmpty(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false)),
            ReadSubjectAlternativeNames(certificate),
            new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero),
            new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero),
            certificate.SerialNumber.ToLowerInvariant(),
            Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)),
            algorithm,
            size,
            IsCa(certificate),
            certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData),
            PublicKeyHash(certificate.PublicKey.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>SHA-256 of a DER SubjectPublicKeyInfo: equal for a certificate and its private key.</summary>
    public static string PublicKeyHash(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo));

    /// <summary>Names a TLS client may ask for: the SANs, or the CN when the certificate has no DNS/IP SAN (RFC 6125 6.4.4).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> HostNames =>
        SubjectAlternativeNames.Count > 0 ? SubjectAlternativeNames
        : CommonName is null ? [] : [CommonName.ToLowerInvariant()];

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static bool IsCa(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault()?.CertificateAuthority ?? false;

    private static (KeyAlgorithm?, int) DescribeKey(X509Certificate2 certificate)
    {
        // RFC 8410 3: id-Ed25519, a 256-bit key; .NET has no type for it, so it is named from the OID.
        if (certificate.PublicKey.Oid.Value == KeyTypeServing.Ed25519Oid) return (Formats.KeyAlgorithm.Ed25519, 256);
        using (var rsa = certificate.GetRSAPublicKey())
        {
            if (rsa is not null) return (Formats.KeyAlgorithm.Rsa, rsa.KeySize);
        }
        try
        {
            using var ec = certificate.GetECDsaPublicKey();
            if (ec is not null) return (Formats.KeyAlgorithm.Ecdsa, ec.KeySize);
        }
        catch (CryptographicException)
        {
            // An unsupported curve: reported as an unknown key below.
        }
        return (null, 0);
    }

    /// <summary>DNS names and IP addresses of the subjectAltName extension (RFC 5280 4.2.1.6), in certificate order.</summary>
    internal static IReadOnlyList<string> ReadSubjectAlternativeNames(X509Certificate2 certificate)
    {
        var extension = certificate.Extensions["2.5.29.17"];
        if (extension is null) return [];
        var names = new List<string>();
        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            var sequence = reader.ReadSequence();
            while (sequence.HasData)
            {
                var tag = sequence.PeekTag();
                if (tag.TagClass != TagClass.ContextSpecific) { sequence.ReadEncodedValue(); continue; }
                switch (tag.TagValue)
                {
                    case 2: // dNSName IA5String
                        names.Add(sequence.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, 2)).ToLowerInvariant());
                        break;
                    case 7: // iPAddress OCTET STRING (4 or 16 bytes)
                        var bytes = sequence.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 7));
                        if (bytes.Length is 4 or 16) names.Add(new IPAddress(bytes).ToString());
                        break;
                    default:
                        sequence.ReadEncodedValue();
                        break;
                }
            }
        }
        catch (AsnContentException)
        {
            // A malformed extension yields the names read so far; the certificate itself parsed.
        }
        return names;
    }
}
