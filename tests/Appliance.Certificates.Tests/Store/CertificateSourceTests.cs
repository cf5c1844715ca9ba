using System.Security.Cryptography;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;

namespace Appliance.Certificates.Tests.Store;

public sealed class CertificateSourceTests : IDisposable
{
    private readonly StoreTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    [Fact]
    public void EachSourceIsStoredAsTheStringEarlierVersionsWrote()
    {
        var root = _bed.Root();
        _bed.Store.Import([StoreTestBed.Pem("root.pem", root.Certificate)], null, TestContext.Current.CancellationToken);
        _bed.Store.EnsureFactoryCertificate("box.example");
        _bed.Store.Create(new CreateCertificateSpec("Lab", "ecdsa-p256", new SubjectName(null, null, null, null, null, "lab.example"), [], true));
        using var rsa = RSA.Create(2048);
        using var key = new PrivateKeyMaterial(rsa.ExportPkcs8PrivateKey(), KeyAlgorithm.Rsa, 2048, rsa.ExportSubjectPublicKeyInfo());
        _bed.Store.StoreIssued(_bed.Leaf(root, rsa, days: 90, commonName: "shop.example.com").ExportCertificatePem(), key, "shop.example.com");

        Assert.Equal(["acme", "factory", "imported", "selfSigned"], _bed.Rows("SELECT source FROM certificates ORDER BY source", r => r.GetString(0)));
        Assert.Equal(
            new[] { CertificateSource.Acme, CertificateSource.Factory, CertificateSource.Imported, CertificateSource.SelfSigned }.Order(),
            _bed.NewStore().ListCertificates().Select(c => c.Source).Order());
    }

    [Theory]
    [InlineData(CertificateSource.Imported, "imported")]
    [InlineData(CertificateSource.SelfSigned, "selfSigned")]
    [InlineData(CertificateSource.Factory, "factory")]
    [InlineData(CertificateSource.Acme, "acme")]
    public void TheTextOfASourceReadsBackAsThatSource(CertificateSource source, string text)
    {
        Assert.Equal(text, source.ToText());
        Assert.Equal(source, CertificateSources.Parse(text));
    }
}
