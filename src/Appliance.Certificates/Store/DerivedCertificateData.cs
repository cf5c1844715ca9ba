using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Store;

/// <summary>
/// Everything the store reads from a certificate's DER: the facts shown and the names and key identifiers that chain
/// building needs. Computed once when the certificate is stored and kept beside its DER (column <c>derived</c>,
/// JSON), so loading the store parses no X.509. DER is immutable, so the data never goes stale while
/// <see cref="Version"/> is unchanged; bump it whenever what is read here changes, and stored rows are read again.
/// <see cref="SelfIssued"/>: subject and issuer are equivalent names (RFC 5280 3.2), as <see cref="CertificateChainBuilder.IsSelfSigned"/> decides.
/// </summary>
internal sealed record DerivedCertificateData(
    CertificateFacts Facts,
    byte[] SubjectName,
    byte[] IssuerName,
    string SubjectNameKey,
    string IssuerNameKey,
    bool SelfIssued,
    byte[]? SubjectKeyIdentifier,
    byte[]? AuthorityKeyIdentifier)
{
    /// <summary>The version of the data written to <c>certificates.derived_version</c>; 0 there means "not computed yet".</summary>
    public const int Version = 2; // 2: Ed25519 keys named (version 1 left them unknown, size 0)

    public static DerivedCertificateData Read(X509Certificate2 certificate) => new(
        CertificateFacts.Read(certificate),
        certificate.SubjectName.RawData,
        certificate.IssuerName.RawData,
        NameKey(certificate.SubjectName.RawData),
        NameKey(certificate.IssuerName.RawData),
        CertificateChainBuilder.IsSelfSigned(certificate),
        certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifierBytes.ToArray(),
        certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier?.ToArray());

    public string ToJson() => JsonSerializer.Serialize(this, StoreJson.Default.DerivedCertificateData);

    /// <summary>The stored data, or null when it cannot be read (then it is computed from the DER again).</summary>
    public static DerivedCertificateData? FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, StoreJson.Default.DerivedCertificateData);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether a certificate with this data may have been issued by the one with <paramref name="issuer"/>'s: the
    /// names are the same bytes and, when the certificate names its issuer's key (authority key identifier, RFC 5280 4.2.1.1), the
    /// issuer has no other subject key identifier. CAs re-key under the same name; this tells the keys apart.
    /// </summary>
    public bool MayBeIssuedBy(DerivedCertificateData issuer) =>
        IssuerName.AsSpan().SequenceEqual(issuer.SubjectName)
        && (AuthorityKeyIdentifier is null || issuer.SubjectKeyIdentifier is null
            || AuthorityKeyIdentifier.AsSpan().SequenceEqual(issuer.SubjectKeyIdentifier));

    /// <summary>A name key equal for equivalent names (case and spacing of values ignored, as X509Name.Equivalent does).</summary>
    internal static string NameKey(byte[] name)
    {
        try
        {
            var text = Org.BouncyCastle.Asn1.X509.X509Name.GetInstance(name).ToString(false, Org.BouncyCastle.Asn1.X509.X509Name.DefaultSymbols);
            return string.Join(' ', text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return "raw:" + Convert.ToHexString(name);
        }
    }
}

/// <summary>Strict reading: a missing or null member makes the stored data unreadable (computed again), never a null fact.</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true, RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(DerivedCertificateData))]
internal sealed partial class StoreJson : JsonSerializerContext;
