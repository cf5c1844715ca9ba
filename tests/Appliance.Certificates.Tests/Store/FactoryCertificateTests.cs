using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates.Store;
using Appliance.Certificates.Vault;

namespace Appliance.Certificates.Tests.Store;

public sealed class FactoryCertificateTests : IDisposable
{
    private readonly StoreTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    [Fact]
    public void TheFactoryCertificateIsMadeOnceForTenYearsWithTheHostNameAndLocalhost()
    {
        var made = _bed.Store.EnsureFactoryCertificate("box.example")!;
        _bed.Time.Advance(TimeSpan.FromDays(1));
        var again = _bed.NewStore().EnsureFactoryCertificate("other.example")!;

        Assert.Equal(made.Id, again.Id);
        Assert.Equal(1, _bed.Changes);
        Assert.Equal(("Factory certificate", CertificateSource.Factory, true), (made.FriendlyName, made.Source, made.IsFactory));
        Assert.Equal(StoreTestBed.Start.AddMinutes(-5), made.Facts.NotBefore);
        Assert.Equal(StoreTestBed.Start.AddDays(3650), made.Facts.NotAfter);
        Assert.Equal(["box.example", "localhost"], made.Facts.SubjectAlternativeNames);
        Assert.Equal("box.example", made.Facts.CommonName);
        Assert.Equal((Formats.KeyAlgorithm.Ecdsa, 256), (made.Facts.KeyAlgorithm, made.Facts.KeySize));
        Assert.True(made.HasPrivateKey);
    }

    [Fact]
    public void AHostNameThatIsNoDnsNameIsLeftOutOfTheNames()
    {
        var made = _bed.Store.EnsureFactoryCertificate("(none)")!;

        Assert.Equal(["localhost"], made.Facts.SubjectAlternativeNames);
    }

    [Fact]
    public void WithTheVaultClosedNothingIsMadeOrStored()
    {
        using var closed = AesGcmKeyVault.Unavailable("tpm", "sealed by another TPM");

        Assert.Null(_bed.NewStore(closed).EnsureFactoryCertificate("box.example"));
        Assert.Empty(_bed.Store.ListCertificates());
        Assert.Empty(_bed.Store.ListKeys());
    }

    [Fact]
    public void WithTheVaultClosedTlsServesAnInMemoryStandInWithTheFactoryNamesAndExpiry()
    {
        var factory = _bed.Store.EnsureFactoryCertificate("box.example")!;
        using var closed = AesGcmKeyVault.Unavailable("tpm", "sealed by another TPM");
        var store = _bed.NewStore(closed);

        using var first = store.OpenServingIdentity(factory)!;
        using var second = store.OpenServingIdentity(factory)!;

        using var standIn = X509CertificateLoader.LoadCertificate(first.Certificate);
        Assert.Equal(factory.Certificate.SubjectName.Name, standIn.SubjectName.Name);
        Assert.Equal(factory.Certificate.NotAfter, standIn.NotAfter);
        Assert.Equal(["box.example", "localhost"], CertificateFacts.Read(standIn).SubjectAlternativeNames);
        Assert.NotEqual(factory.Der.ToArray(), first.Certificate);
        Assert.Equal(first.Certificate, second.Certificate); // one stand-in per process
        using var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(first.Pkcs8, out _);
        Assert.Equal(standIn.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo(), key.ExportSubjectPublicKeyInfo());
        Assert.Equal(factory.Der.ToArray(), _bed.Store.GetCertificate(factory.Id).Der.ToArray()); // nothing was written
    }

    [Fact]
    public void WithTheVaultOpenTlsServesTheStoredFactoryKey()
    {
        var factory = _bed.Store.EnsureFactoryCertificate("box.example")!;

        using var identity = _bed.Store.OpenServingIdentity(factory)!;

        Assert.Equal(factory.Der.ToArray(), identity.Certificate);
        using var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(identity.Pkcs8, out _);
        Assert.Equal(factory.Certificate.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo(), key.ExportSubjectPublicKeyInfo());
    }
}
