using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;

namespace Appliance.Certificates.Tests.Store;

public sealed class CertificateCreationTests : IDisposable
{
    private static readonly SubjectName Shop = new("DE", null, null, "Example", null, "shop.example.com");
    private readonly StoreTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    private static CreateCertificateSpec Spec(string name, bool selfSigned, string key = "ecdsa-p256") =>
        new(name, key, Shop, ["shop.example.com", "192.0.2.10"], selfSigned);

    [Fact]
    public void ASelfSignedCertificateIsValidForAYearFromFiveMinutesBeforeNow()
    {
        var (_, certificate) = _bed.Store.Create(Spec("Lab", selfSigned: true));

        Assert.NotNull(certificate);
        Assert.Equal("Lab", certificate.FriendlyName);
        Assert.Equal(CertificateSource.SelfSigned, certificate.Source);
        Assert.Equal(StoreTestBed.Start.AddMinutes(-5), certificate.Facts.NotBefore);
        Assert.Equal(StoreTestBed.Start.AddDays(365), certificate.Facts.NotAfter);
        Assert.True(certificate.Facts.IsSelfSigned);
        Assert.True(certificate.HasPrivateKey);
        Assert.Equal(["shop.example.com", "192.0.2.10"], certificate.Facts.SubjectAlternativeNames);
    }

    [Fact]
    public void ACertificateRequestIsKeptWithItsSubjectNamesAndNewKey()
    {
        var (request, certificate) = _bed.Store.Create(Spec("Shop 2026", selfSigned: false, key: "rsa-2048"));

        Assert.Null(certificate);
        Assert.NotNull(request);
        var stored = Assert.Single(_bed.Store.ListRequests());
        Assert.Equal((request.Id, "Shop 2026", Shop, KeyAlgorithm.Rsa, 2048, StoreTestBed.Start, (string?)null),
            (stored.Id, stored.FriendlyName, stored.Subject, stored.KeyAlgorithm, stored.KeySize, stored.CreatedAt, stored.CertificateId));
        Assert.Equal(["shop.example.com", "192.0.2.10"], stored.SubjectAlternativeNames);
        var csr = CertificateRequest.LoadSigningRequestPem(stored.RequestData, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        Assert.Equal("C=DE, O=Example, CN=shop.example.com", csr.SubjectName.Name);
        Assert.Equal(stored.KeyId, Assert.Single(_bed.Store.ListKeys()).Id);
        Assert.Empty(_bed.Store.ListCertificates());
    }

    [Fact]
    public void ARequestCanUseThePendingRequestsKeyByItsKeyIdAndAnUnknownKeyIdIsRefusedInWords()
    {
        var (first, _) = _bed.Store.Create(Spec("Shop 2026", selfSigned: false, key: "rsa-2048"));

        var (second, _) = _bed.Store.Create(Spec("Shop 2026 again", selfSigned: false, key: KeyReference.Existing(first!.KeyId)));

        Assert.Equal(first.KeyId, second!.KeyId);
        Assert.Single(_bed.Store.ListKeys());
        string PublicKey(StoredRequest r) => Convert.ToBase64String(CertificateRequest.LoadSigningRequestPem(r.RequestData, HashAlgorithmName.SHA256,
            CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions).PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(PublicKey(first), PublicKey(second));
        var refusal = Assert.Throws<CertificateStoreException>(() => _bed.Store.Create(Spec("Other", selfSigned: false, key: "existing:k0123456789abcdef")));
        Assert.Equal("There is no stored key with id 'k0123456789abcdef'; it may have been deleted with its request. Pick an existing key from the list or a new key type.", refusal.Message);
    }

    [Theory]
    [InlineData("Lab")]
    [InlineData("LAB")]
    public void AFriendlyNameUsedByACertificateOrARequestIsRefusedWhateverItsCase(string name)
    {
        _bed.Store.Create(Spec("Lab", selfSigned: true));
        _bed.Store.Create(Spec("Pending", selfSigned: false));

        foreach (var taken in new[] { name, "pending" })
        {
            var refusal = Assert.Throws<CertificateStoreException>(() => _bed.Store.Create(Spec(taken, selfSigned: false)));
            Assert.Equal(StoreFailure.Conflict, refusal.Reason);
            Assert.Equal($"The friendly name '{taken}' is already used; choose another one (for example the DNS name and the month and year).", refusal.Message);
        }
        Assert.Single(_bed.Store.ListRequests());
    }

    [Fact]
    public void TheKeyOfAStoredCertificateIsReusedForARequest()
    {
        var (_, lab) = _bed.Store.Create(Spec("Lab", selfSigned: true));

        var (request, _) = _bed.Store.Create(Spec("Shop 2027", selfSigned: false, key: KeyReference.Existing(lab!.Id)));

        Assert.Equal(lab.KeyId, request!.KeyId);
        Assert.Single(_bed.Store.ListKeys());
    }

    [Fact]
    public void TheKeyOfAKeylessOrUnknownCertificateIsRefusedInWords()
    {
        var root = _bed.Root();
        _bed.Store.Import([StoreTestBed.Pem("root.pem", root.Certificate)], null, TestContext.Current.CancellationToken);

        var keyless = Assert.Throws<CertificateStoreException>(() =>
            _bed.Store.Create(Spec("Shop", selfSigned: false, key: KeyReference.Existing(StoreTestBed.Id(root.Certificate)))));
        var unknown = Assert.Throws<CertificateStoreException>(() =>
            _bed.Store.Create(Spec("Shop", selfSigned: false, key: KeyReference.Existing("0123456789abcdef"))));

        Assert.Equal("The certificate 'Example Root CA' has no private key on this appliance, so its key cannot be reused; choose a new key.", keyless.Message);
        Assert.Equal("There is no certificate with id '0123456789abcdef' whose key could be used; pick an existing key from the list or a new key type.", unknown.Message);
        Assert.Empty(_bed.Store.ListRequests());
        Assert.Empty(_bed.Store.ListKeys());
    }

    [Fact]
    public void AnEmptyOrOverlongFriendlyNameIsRefusedInWords()
    {
        var empty = Assert.Throws<CertificateStoreException>(() => _bed.Store.Create(Spec("  ", selfSigned: true)));
        var overlong = Assert.Throws<CertificateStoreException>(() => _bed.Store.Create(Spec(new string('x', 65), selfSigned: true)));

        Assert.Equal("Enter a certificate friendly name, for example the primary DNS name or the current month and year.", empty.Message);
        Assert.Equal("The friendly name is 65 characters long; use at most 64.", overlong.Message);
    }
}
