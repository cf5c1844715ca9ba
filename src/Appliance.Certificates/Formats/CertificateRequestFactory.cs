using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Appliance.Certificates.Formats;

/// <summary>Certificate requests (PKCS#10, RFC 2986) and self-signed certificates from a subject, SANs and a key.</summary>
public static class CertificateRequestFactory
{
    /// <summary>Most subject alternative names in one request; public CAs allow 100.</summary>
    public const int MaxSubjectAlternativeNames = 100;

    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");

    /// <summary>Validated SAN list in request order: the common name first when it is a DNS name and missing,
    /// DNS names lower-cased A-labels, one-label wildcards, IPv4/IPv6 literals. Throws CertificateRequestException.</summary>
    /// <remarks>Duplicates (after normalization) are dropped; an empty result with no common name is refused.</remarks>
    public static IReadOnlyList<string> NormalizeSubjectAlternativeNames(SubjectName subject, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(names);
        var parsed = names.Select(SubjectAlternativeName.Parse).Select(n => n.Value).ToList();
        var result = new List<string>();
        string? commonName = Field(subject.CommonName);

        // CA/Browser Forum Baseline Requirements 7.1.4.3: a common name must also be a SAN; clients
        // ignore the CN when a SAN is present (RFC 6125 6.4.4), so a missing one would not match.
        if (commonName is not null && commonName.Contains('.', StringComparison.Ordinal)
            && SubjectAlternativeName.TryParseDnsName(commonName, out string cnName) && !parsed.Contains(cnName, StringComparer.Ordinal))
        {
            result.Add(cnName);
        }

        foreach (string name in parsed)
        {
            if (!result.Contains(name, StringComparer.Ordinal))
            {
                result.Add(name);
            }
        }

        if (result.Count > MaxSubjectAlternativeNames)
        {
            throw new CertificateRequestException($"The request has {result.Count} subject alternative names; at most {MaxSubjectAlternativeNames} are allowed. Split the names over several certificates.");
        }

        if (result.Count == 0 && commonName is null)
        {
            throw new CertificateRequestException("Enter a common name or at least one subject alternative name.");
        }

        return result;
    }

    /// <summary>Throws CertificateRequestException when a field is invalid (country not ISO 3166-1 alpha-2, empty subject, ...).</summary>
    /// <remarks>An entirely empty subject is accepted only when <paramref name="subjectAlternativeNames"/> has names
    /// (RFC 5280 4.2.1.6 then makes the SAN extension critical).</remarks>
    public static void ValidateSubject(SubjectName subject, IReadOnlyCollection<string>? subjectAlternativeNames = null)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (Field(subject.Country) is { } country && CountryCodes.Normalize(country) is null)
        {
            throw new CertificateRequestException($"The country \"{SubjectAlternativeName.Shown(country)}\" is not an ISO 3166-1 two-letter country code. Enter a code such as US, DE or GB.");
        }

        // Upper bounds from RFC 5280 Appendix A.1 (ub-state-name and friends).
        CheckLength("state or province", subject.State, 128);
        CheckLength("locality", subject.Locality, 128);
        CheckLength("organization", subject.Organization, 64);
        CheckLength("organizational unit", subject.OrganizationalUnit, 64);
        CheckLength("common name", subject.CommonName, 64);

        bool empty = new[] { subject.Country, subject.State, subject.Locality, subject.Organization, subject.OrganizationalUnit, subject.CommonName }.All(f => Field(f) is null);
        if (empty && (subjectAlternativeNames is null || subjectAlternativeNames.Count == 0))
        {
            throw new CertificateRequestException("The subject is empty. Enter a common name or at least one subject alternative name.");
        }
    }

    /// <summary>PKCS#10 request, DER, signed with <paramref name="key"/> (SHA-256 for RSA and P-256, SHA-384 for P-384).</summary>
    /// <remarks>The request asks for the SANs, server-auth extended key usage and a key usage fitting the key.</remarks>
    public static byte[] CreateRequest(SubjectName subject, IReadOnlyList<string> subjectAlternativeNames, PrivateKeyMaterial key)
    {
        var (request, signer) = Prepare(subject, subjectAlternativeNames, key);
        using (signer)
        {
            return request.CreateSigningRequest();
        }
    }

    /// <summary>Self-signed certificate, DER, server-auth EKU, random positive serial.</summary>
    /// <remarks>Also basic constraints CA:false (critical), key usage (critical), subject and authority key identifiers;
    /// the returned certificate has no private key attached.</remarks>
    public static X509Certificate2 CreateSelfSigned(SubjectName subject, IReadOnlyList<string> subjectAlternativeNames, PrivateKeyMaterial key, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        if (notAfter <= notBefore)
        {
            throw new CertificateRequestException($"The certificate would expire ({notAfter:u}) before it becomes valid ({notBefore:u}). Choose a later expiry date.");
        }

        var (request, signer) = Prepare(subject, subjectAlternativeNames, key);
        using (signer)
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            var subjectKeyId = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
            request.CertificateExtensions.Add(subjectKeyId);
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(subjectKeyId));

            // RFC 5280 4.1.2.2: positive, at most 20 octets; CA/B BR 7.1 asks for 64 bits of randomness, we use 127.
            byte[] serial = RandomNumberGenerator.GetBytes(16);
            serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
            var generator = signer is RSA rsa
                ? X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1)
                : X509SignatureGenerator.CreateForECDsa((ECDsa)signer);
            using var certificate = request.Create(request.SubjectName, generator, notBefore, notAfter, serial);
            return X509CertificateLoader.LoadCertificate(certificate.RawData);
        }
    }

    /// <summary>The SubjectPublicKeyInfo DER of a PKCS#10 request (to match an arriving certificate).</summary>
    public static byte[] RequestPublicKeyInfo(byte[] requestDer)
    {
        ArgumentNullException.ThrowIfNull(requestDer);
        try
        {
            // RFC 2986 4: CertificationRequest = { certificationRequestInfo = { version, subject, subjectPKInfo, attributes }, ... }.
            var request = new AsnReader(requestDer, AsnEncodingRules.DER).ReadSequence();
            var info = request.ReadSequence();
            info.ReadInteger();
            info.ReadEncodedValue();
            return info.ReadEncodedValue().ToArray();
        }
        catch (AsnContentException)
        {
            throw new CertificateRequestException("The stored certificate request is damaged; delete it and create a new request.");
        }
    }

    /// <summary>The subject as an X.500 name, fields in the conventional C, ST, L, O, OU, CN order.</summary>
    internal static X500DistinguishedName BuildName(SubjectName subject)
    {
        var builder = new X500DistinguishedNameBuilder();
        if (Field(subject.Country) is { } country)
        {
            builder.AddCountryOrRegion(CountryCodes.Normalize(country)!);
        }

        if (Field(subject.State) is { } state)
        {
            builder.AddStateOrProvinceName(state);
        }

        if (Field(subject.Locality) is { } locality)
        {
            builder.AddLocalityName(locality);
        }

        if (Field(subject.Organization) is { } organization)
        {
            builder.AddOrganizationName(organization);
        }

        if (Field(subject.OrganizationalUnit) is { } unit)
        {
            builder.AddOrganizationalUnitName(unit);
        }

        if (Field(subject.CommonName) is { } commonName)
        {
            builder.AddCommonName(commonName);
        }

        return builder.Build();
    }

    private static (CertificateRequest Request, AsymmetricAlgorithm Signer) Prepare(SubjectName subject, IReadOnlyList<string> subjectAlternativeNames, PrivateKeyMaterial key)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(subjectAlternativeNames);
        ArgumentNullException.ThrowIfNull(key);
        var names = NormalizeSubjectAlternativeNames(subject, subjectAlternativeNames);
        ValidateSubject(subject, names.ToArray());
        var dn = BuildName(subject);

        CertificateRequest request;
        AsymmetricAlgorithm signer = KeyMaterial.Open(key);
        X509KeyUsageFlags usage;
        if (signer is RSA rsa)
        {
            request = new CertificateRequest(dn, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            usage = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment;
        }
        else
        {
            var ecdsa = (ECDsa)signer;
            request = new CertificateRequest(dn, ecdsa, ecdsa.KeySize > 256 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256);
            usage = X509KeyUsageFlags.DigitalSignature;
        }

        if (names.Count > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (string name in names)
            {
                var parsed = SubjectAlternativeName.Parse(name);
                if (parsed.Address is { } address)
                {
                    san.AddIpAddress(address);
                }
                else
                {
                    san.AddDnsName(parsed.Value);
                }
            }

            // RFC 5280 4.2.1.6: critical when the subject is empty.
            request.CertificateExtensions.Add(san.Build(critical: dn.RawData.Length <= 2));
        }

        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuthentication], false));
        return (request, signer);
    }

    private static void CheckLength(string field, string? value, int max)
    {
        if (Field(value) is not { } text)
        {
            return;
        }

        if (text.Any(char.IsControl))
        {
            throw new CertificateRequestException($"The {field} contains control characters. Remove them.");
        }

        if (text.Length > max)
        {
            throw new CertificateRequestException($"The {field} has {text.Length} characters; at most {max} are allowed (RFC 5280). Shorten it.");
        }
    }

    private static string? Field(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
