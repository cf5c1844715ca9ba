using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Tests;

public sealed class CertificateRequestFactoryTests(CertificateFiles openssl)
{
    private static readonly SubjectName Subject = new("de", "Bayern", "München", "Example GmbH", "IT", "www.example.com");

    [Fact]
    public void AddsADnsCommonNameAsTheFirstSanWhenMissing()
    {
        var names = CertificateRequestFactory.NormalizeSubjectAlternativeNames(Subject, ["api.example.com", "10.0.0.1"]);
        Assert.Equal(["www.example.com", "api.example.com", "10.0.0.1"], names);
    }

    [Fact]
    public void DoesNotRepeatACommonNameAlreadyListedOrOneThatIsNoDnsName()
    {
        Assert.Equal(["api.example.com", "www.example.com"], CertificateRequestFactory.NormalizeSubjectAlternativeNames(Subject, ["api.example.com", "WWW.Example.COM"]));
        Assert.Equal(["a.example.com"], CertificateRequestFactory.NormalizeSubjectAlternativeNames(Subject with { CommonName = "My Server" }, ["a.example.com"]));
    }

    [Theory]
    [InlineData("Bücher.Example", "xn--bcher-kva.example")]
    [InlineData("*.Example.com", "*.example.com")]
    [InlineData("host.example.com.", "host.example.com")]
    [InlineData("2001:DB8::0:1", "2001:db8::1")]
    [InlineData("192.168.1.10", "192.168.1.10")]
    [InlineData("localhost", "localhost")]
    public void NormalizesNames(string input, string expected) =>
        Assert.Equal(expected, CertificateRequestFactory.NormalizeSubjectAlternativeNames(Subject with { CommonName = null }, [input]).Single());

    [Theory]
    [InlineData("bad name.example.com", "spaces or control characters")]
    [InlineData("bad\u0001.example.com", "spaces or control characters")]
    [InlineData("a..example.com", "empty label")]
    [InlineData("*.com", "not over a top-level domain")]
    [InlineData("foo.*.example.com", "whole left-most label")]
    [InlineData("f*.example.com", "whole left-most label")]
    [InlineData("-bad.example.com", "start or end with a hyphen")]
    [InlineData("under_score.example.com", "only letters, digits, hyphens and dots")]
    [InlineData("1.2.3", "top-level label is numeric")]
    [InlineData("300.1.1.1", "top-level label is numeric")]
    public void RefusesHostileOrInvalidNames(string input, string why)
    {
        var error = Assert.Throws<CertificateRequestException>(() => CertificateRequestFactory.NormalizeSubjectAlternativeNames(Subject, [input]));
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.EndsWith("Enter a host name such as www.example.com, a wildcard such as *.example.com, or an IPv4 or IPv6 address.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesLabelsOver63AndNamesOver253Characters()
    {
        string longLabel = new string('a', 64) + ".example.com";
        Assert.Contains("has 64 characters; at most 63", Assert.Throws<CertificateRequestException>(() => CertificateRequestFactory.NormalizeSubjectAlternativeNames(Subject, [longLabel])).Message, StringComparison.Ordinal);
        string longName = string.Join('.', Enumerable.Repeat(new string('a', 60), 5)) + ".com";
        Assert.Contains("at most 253 are allowed", Assert.Throws<CertificateRequestException>(() => CertificateRequestFactory.NormalizeSubjectAlternativeNames(Subject, [longName])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RequiresACommonNameOrASan()
    {
        var error = Assert.Throws<CertificateRequestException>(() => CertificateRequestFactory.NormalizeSubjectAlternativeNames(new SubjectName("US", null, null, "Org", null, null), []));
        Assert.Equal("Enter a common name or at least one subject alternative name.", error.Message);
    }

    [Theory]
    [InlineData("US")]
    [InlineData("de")]
    [InlineData("Ax")]
    public void AcceptsAssignedCountryCodesInAnyCase(string country) =>
        CertificateRequestFactory.ValidateSubject(Subject with { Country = country });

    [Theory]
    [InlineData("XX")]
    [InlineData("UK")]
    [InlineData("EU")]
    [InlineData("USA")]
    [InlineData("Germany")]
    public void RefusesCountriesThatAreNotAssignedIsoCodes(string country)
    {
        var error = Assert.Throws<CertificateRequestException>(() => CertificateRequestFactory.ValidateSubject(Subject with { Country = country }));
        Assert.Equal($"The country \"{country}\" is not an ISO 3166-1 two-letter country code. Enter a code such as US, DE or GB.", error.Message);
    }

    [Fact]
    public void KnowsExactlyThe249AssignedCountryCodes() => Assert.Equal(249, CountryCodes.Assigned.Count);

    [Fact]
    public void RefusesFieldsLongerThanRfc5280Allows()
    {
        var error = Assert.Throws<CertificateRequestException>(() => CertificateRequestFactory.ValidateSubject(Subject with { CommonName = new string('a', 65) }));
        Assert.Equal("The common name has 65 characters; at most 64 are allowed (RFC 5280). Shorten it.", error.Message);
        Assert.Throws<CertificateRequestException>(() => CertificateRequestFactory.ValidateSubject(Subject with { Locality = new string('a', 129) }));
    }

    [Fact]
    public void RefusesAnEmptySubjectWithoutSans()
    {
        var empty = new SubjectName(null, " ", null, null, null, null);
        Assert.Throws<CertificateRequestException>(() => CertificateRequestFactory.ValidateSubject(empty));
        CertificateRequestFactory.ValidateSubject(empty, ["www.example.com"]);
    }

    [Theory]
    [InlineData("rsa-2048")]
    [InlineData("ecdsa-p256")]
    [InlineData("ecdsa-p384")]
    public void MakesARequestThatOpenSslVerifiesAndACaSigns(string keyType)
    {
        using var key = KeyFactory.Generate(keyType);
        var names = CertificateRequestFactory.NormalizeSubjectAlternativeNames(Subject, ["*.example.com", "10.1.2.3", "::1"]);
        byte[] request = CertificateRequestFactory.CreateRequest(Subject, names, key);
        Assert.Equal(key.SubjectPublicKeyInfo, CertificateRequestFactory.RequestPublicKeyInfo(request));

        string csr = openssl.Path($"ours-{keyType}.csr");
        File.WriteAllText(csr, System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE REQUEST", request));
        openssl.Run("req", "-in", csr, "-verify", "-noout");
        string text = openssl.Run("req", "-in", csr, "-noout", "-text");
        Assert.Contains("DNS:www.example.com, DNS:*.example.com, IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1", text, StringComparison.Ordinal);
        string subject = openssl.Run("req", "-in", csr, "-noout", "-subject", "-nameopt", "RFC2253");
        Assert.Equal("subject=C=DE,ST=Bayern,L=M\\C3\\BCnchen,O=Example GmbH,OU=IT,CN=www.example.com\n", subject);

        string signed = openssl.Path($"ours-{keyType}.crt");
        openssl.Run("x509", "-req", "-in", csr, "-CA", openssl.Path("intermediate.crt"), "-CAkey", openssl.Path("intermediate.key"), "-set_serial", "99", "-days", "30", "-copy_extensions", "copy", "-out", signed);
        var certificate = Assert.Single(CertificateFileReader.Read(new ImportFile("signed.crt", File.ReadAllBytes(signed)), null).Certificates);
        Assert.Equal(key.SubjectPublicKeyInfo, certificate.PublicKey.ExportSubjectPublicKeyInfo());
        var pool = CertificateFileReader.Read(openssl.Import("chain.pem"), null).Certificates;
        Assert.True(CertificateChainBuilder.Build(certificate, pool).Complete);
    }

    [Fact]
    public void MakesASelfSignedServerCertificate()
    {
        using var key = KeyFactory.Generate("ecdsa-p256");
        var names = CertificateRequestFactory.NormalizeSubjectAlternativeNames(Subject, []);
        var notBefore = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var certificate = CertificateRequestFactory.CreateSelfSigned(Subject, names, key, notBefore, notBefore.AddYears(1));

        Assert.False(certificate.HasPrivateKey);
        Assert.Equal(notBefore.UtcDateTime, certificate.NotBefore.ToUniversalTime());
        Assert.Equal(16, certificate.SerialNumberBytes.Length);
        Assert.True(certificate.SerialNumberBytes.Span[0] < 0x80);
        Assert.False(Assert.Single(certificate.Extensions.OfType<X509BasicConstraintsExtension>()).CertificateAuthority);
        Assert.Equal("1.3.6.1.5.5.7.3.1", Assert.Single(Assert.Single(certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()).EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>()).Value);
        Assert.Equal(System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.DigitalSignature, Assert.Single(certificate.Extensions.OfType<X509KeyUsageExtension>()).KeyUsages);
        Assert.Single(certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>());
        Assert.Equal(["www.example.com"], Assert.Single(certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()).EnumerateDnsNames());
        Assert.True(CertificateChainBuilder.IsSelfSigned(certificate));
        Assert.True(CertificateChainBuilder.Build(certificate, []).Complete);
    }

    [Fact]
    public void RefusesASelfSignedCertificateThatExpiresBeforeItStarts()
    {
        using var key = KeyFactory.Generate("ecdsa-p256");
        var now = DateTimeOffset.UnixEpoch;
        Assert.Throws<CertificateRequestException>(() => CertificateRequestFactory.CreateSelfSigned(Subject, ["www.example.com"], key, now, now));
    }

    [Fact]
    public void RefusesADamagedStoredRequest() =>
        Assert.Throws<CertificateRequestException>(() => CertificateRequestFactory.RequestPublicKeyInfo([0x30, 0x05, 0x01]));
}
