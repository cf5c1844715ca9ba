using System.Security.Cryptography;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using static Appliance.Certificates.Tests.Store.StoreTestBed;

namespace Appliance.Certificates.Tests.Store;

public sealed class DefaultAndDeleteRulesTests : IDisposable
{
    private readonly StoreTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    private string Refusal(Action action) => Assert.Throws<CertificateStoreException>(action).Message;

    [Fact]
    public void ACaSignedCertificateWithItsKeyBecomesTheDefaultAndNullClearsIt()
    {
        using var key = RSA.Create(2048);
        var leaf = _bed.ImportServer(_bed.Root(), key, days: 90);

        _bed.Store.SetDefault(leaf.Id);
        Assert.True(_bed.NewStore().GetCertificate(leaf.Id).IsDefault);

        _bed.Store.SetDefault(null);
        Assert.DoesNotContain(_bed.NewStore().ListCertificates(), c => c.IsDefault);
    }

    [Fact]
    public void TheFactorySelfSignedAndKeylessCertificatesCannotBeTheDefault()
    {
        var factory = _bed.Store.EnsureFactoryCertificate("box.example")!;
        var (_, lab) = _bed.Store.Create(new CreateCertificateSpec("Lab", "ecdsa-p256", new SubjectName(null, null, null, null, null, "lab.example"), [], true));
        using var key = RSA.Create(2048);
        var root = _bed.Root();
        var keyless = _bed.Leaf(root, key, days: 90);
        _bed.Store.Import([Pem("leaf.pem", keyless, root.Certificate)], null, TestContext.Current.CancellationToken);

        Assert.Equal("'Factory certificate' is the factory certificate, which cannot be the default; import or request a CA-signed certificate.",
            Refusal(() => _bed.Store.SetDefault(factory.Id)));
        Assert.Equal("'Lab' is self-signed, and a self-signed certificate cannot be the default; use a CA-signed certificate.",
            Refusal(() => _bed.Store.SetDefault(lab!.Id)));
        Assert.Equal("'www.example.com' has no private key on this appliance, so it cannot serve TLS; import its private key first.",
            Refusal(() => _bed.Store.SetDefault(Id(keyless))));
        Assert.DoesNotContain(_bed.Store.ListCertificates(), c => c.IsDefault);
    }

    [Fact]
    public void TheFactoryCertificateIsNeverDeleted()
    {
        var factory = _bed.Store.EnsureFactoryCertificate("box.example")!;

        var refusal = Assert.Throws<CertificateStoreException>(() => _bed.Store.Delete(factory.Id));

        Assert.Equal(StoreFailure.InUse, refusal.Reason);
        Assert.Equal("'Factory certificate' is the factory certificate; it cannot be deleted because it answers when no other certificate does.", refusal.Message);
    }

    [Fact]
    public void ACertificateInUseIsNotDeletedAndEveryUseIsNamed()
    {
        using var key = RSA.Create(2048);
        var leaf = _bed.ImportServer(_bed.Root(), key, days: 90);
        _bed.Store.SetDefault(leaf.Id);
        _bed.Store.SetAssignments([new CertificateAssignment("192.0.2.10", leaf.Id), new CertificateAssignment("2001:db8::10", leaf.Id)]);

        Assert.Equal("'www.example.com' is in use and was not deleted: it is the default certificate (choose another default first); " +
                     "it is assigned to 192.0.2.10, 2001:db8::10 (assign another certificate there first).",
            Refusal(() => _bed.Store.Delete(leaf.Id)));
        Assert.NotNull(_bed.Store.GetCertificate(leaf.Id));
    }

    [Fact]
    public void TheKeyGoesWithTheLastCertificateThatUsesIt()
    {
        using var key = RSA.Create(2048);
        var root = _bed.Root();
        var first = _bed.ImportServer(root, key, days: 90);
        _bed.Store.Import([Pem("renewal.pem", _bed.Leaf(root, key, days: 180))], null, TestContext.Current.CancellationToken);

        _bed.Store.Delete(first.Id);
        Assert.Single(_bed.Store.ListKeys());

        _bed.Store.Delete(_bed.Store.ListCertificates().Single(c => c.HasPrivateKey).Id);
        Assert.Empty(_bed.Store.ListKeys());
        Assert.Empty(_bed.Rows("SELECT id FROM keys", r => r.GetString(0)));
    }

    [Fact]
    public void DeletingACertificateMakesTheRequestItCompletedPendingAgain()
    {
        var root = _bed.Root();
        var (request, _) = _bed.Store.Create(new CreateCertificateSpec("Shop", "ecdsa-p256", new SubjectName(null, null, null, null, null, "shop.example"), [], false));
        var issued = Issue(request!, root);
        _bed.Store.Import([Pem("issued.pem", issued)], null, TestContext.Current.CancellationToken);

        _bed.Store.Delete(Id(issued));

        Assert.Null(_bed.Store.GetRequest(request!.Id).CertificateId);
        Assert.Single(_bed.Store.ListKeys()); // the request still uses the key
    }

    [Fact]
    public void DeletingARequestDeletesItsUnusedKey()
    {
        var (request, _) = _bed.Store.Create(new CreateCertificateSpec("Shop", "ecdsa-p256", new SubjectName(null, null, null, null, null, "shop.example"), [], false));

        _bed.Store.DeleteRequest(request!.Id);

        Assert.Empty(_bed.Store.ListRequests());
        Assert.Empty(_bed.Store.ListKeys());
        Assert.Equal("There is no certificate request with id 'ffff'; it may have been deleted. Reload the list.",
            Refusal(() => _bed.Store.DeleteRequest("ffff")));
    }

    [Fact]
    public void AnUnknownCertificateIsRefusedInWords()
    {
        Assert.Equal("There is no certificate with id '0123456789abcdef'; it may have been deleted. Reload the certificate list.",
            Refusal(() => _bed.Store.Delete("0123456789abcdef")));
        Assert.Equal("There is no certificate with id '0123456789abcdef'; it may have been deleted. Reload the certificate list.",
            Refusal(() => _bed.Store.SetDefault("0123456789abcdef")));
    }
}
