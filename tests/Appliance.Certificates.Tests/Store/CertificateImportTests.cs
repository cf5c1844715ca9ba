using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using static Appliance.Certificates.Tests.Store.StoreTestBed;

namespace Appliance.Certificates.Tests.Store;

public sealed class CertificateImportTests : IDisposable
{
    private readonly StoreTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    private ImportResult Import(params ImportFile[] files) => _bed.Store.Import(files, null, TestContext.Current.CancellationToken);

    [Fact]
    public void ACertificateWithTheSameSubjectAndKeyAndALaterExpirationRenewsTheStoredOneAndTakesOverItsDefaultAndAddresses()
    {
        var root = _bed.Root();
        using var key = RSA.Create(2048);
        var old = _bed.ImportServer(root, key, days: 90);
        _bed.Store.SetDefault(old.Id);
        _bed.Store.SetAssignments([new CertificateAssignment("192.0.2.10", old.Id)]);
        var renewal = _bed.Leaf(root, key, days: 180);

        var result = Import(Pem("renewal.pem", renewal));

        Assert.Equal(
            ["The certificate renews 'www.example.com' (expiring 2027-03-07) and took over the default certificate, 192.0.2.10; the old certificate stays until you delete it."],
            result.Warnings);
        var stored = _bed.Store.GetCertificate(Id(renewal));
        Assert.Equal("www.example.com (2)", stored.FriendlyName);
        Assert.True(stored.IsDefault);
        Assert.Equal(["192.0.2.10"], stored.BoundAddresses);
        Assert.Equal(old.KeyId, stored.KeyId);
        var kept = _bed.Store.GetCertificate(old.Id);
        Assert.False(kept.IsDefault);
        Assert.Empty(kept.BoundAddresses);
    }

    [Fact]
    public void ARenewalOfACertificateInNoUseSaysSoAndTakesOverNothing()
    {
        var root = _bed.Root();
        using var key = RSA.Create(2048);
        _bed.ImportServer(root, key, days: 90);

        var result = Import(Pem("renewal.pem", _bed.Leaf(root, key, days: 180)));

        Assert.Equal(
            ["The certificate renews 'www.example.com' (expiring 2027-03-07); the old certificate stays until you delete it."],
            result.Warnings);
    }

    [Fact]
    public void AnEarlierCertificateForTheSameKeyRenewsNothing()
    {
        var root = _bed.Root();
        using var key = RSA.Create(2048);
        var current = _bed.ImportServer(root, key, days: 180);
        _bed.Store.SetDefault(current.Id);

        var result = Import(Pem("older.pem", _bed.Leaf(root, key, days: 90)));

        Assert.Empty(result.Warnings);
        Assert.True(_bed.Store.GetCertificate(current.Id).IsDefault);
    }

    [Fact]
    public void AKeyWithoutItsCertificateWaitsAndIsJoinedWhenTheCertificateComes()
    {
        var root = _bed.Root();
        using var key = RSA.Create(2048);

        var first = Import(KeyPem("key.pem", key));
        Assert.Equal(["The private key (RSA 2048) is kept and waits for its certificate; import the certificate to join them."], first.Warnings);
        Assert.Null(Assert.Single(first.Keys).CertificateId);

        var leaf = _bed.Leaf(root, key, days: 90);
        var second = Import(Pem("chain.pem", leaf, root.Certificate));

        Assert.Empty(second.Warnings);
        Assert.True(_bed.Store.GetCertificate(Id(leaf)).HasPrivateKey);
        Assert.Equal(Id(leaf), Assert.Single(_bed.Store.ListKeys()).CertificateId);
    }

    [Fact]
    public void ACertificateForAPendingRequestCompletesItAndTakesItsFriendlyName()
    {
        var root = _bed.Root();
        var (request, _) = _bed.Store.Create(new CreateCertificateSpec("Shop 2026", "ecdsa-p256",
            new SubjectName(null, null, null, "Example", null, "shop.example.com"), ["shop.example.com"], SelfSigned: false));
        var issued = Issue(request!, root);

        var result = Import(Pem("issued.pem", issued, root.Certificate));

        Assert.Equal(["The certificate completes the certificate request 'Shop 2026'."], result.Warnings);
        var stored = _bed.Store.GetCertificate(Id(issued));
        Assert.Equal("Shop 2026", stored.FriendlyName);
        Assert.Equal(request!.KeyId, stored.KeyId);
        Assert.Equal(stored.Id, _bed.Store.GetRequest(request.Id).CertificateId);
    }

    [Fact]
    public void ACertificateWithoutItsIssuerIsStoredWithTheIncompleteChainWarning()
    {
        var root = _bed.Root();
        using var key = RSA.Create(2048);

        var result = Import(Pem("leaf.pem", _bed.Leaf(root, key, days: 90)));

        Assert.Equal([$"'www.example.com': {StoredCertificate.IncompleteChainWarning}."], result.Warnings);
    }

    [Fact]
    public void TheSameCertificateImportedTwiceIsOneEntry()
    {
        var root = _bed.Root();
        Import(Pem("root.pem", root.Certificate));

        var again = Import(Pem("root-again.pem", root.Certificate));

        Assert.Equal(Id(root.Certificate), Assert.Single(again.Certificates).Id);
        Assert.Single(_bed.Store.ListCertificates());
    }

    [Fact]
    public void NoFileIsRefused()
    {
        var refusal = Assert.Throws<CertificateStoreException>(() => Import());
        Assert.Equal("No file was uploaded; choose one or more certificate or key files.", refusal.Message);
    }

    [Fact]
    public void MoreThanTwentyFilesAreRefused()
    {
        var root = _bed.Root();
        var files = Enumerable.Range(0, 21).Select(i => Pem($"root{i}.pem", root.Certificate)).ToArray();

        var refusal = Assert.Throws<CertificateStoreException>(() => Import(files));

        Assert.Equal("21 files were uploaded; import at most 20 at a time.", refusal.Message);
        Assert.Empty(_bed.Store.ListCertificates());
    }

    [Fact]
    public void AKeyBesideCertificatesItBelongsToNoneOfIsRefusedAndNothingIsStored()
    {
        var root = _bed.Root();
        using var key = RSA.Create(2048);
        using var otherKey = RSA.Create(2048);
        var leaf = _bed.Leaf(root, key, days: 90);
        var file = new ImportFile("bundle.pem", Pem("x", leaf).Content.ToArray().Concat(KeyPem("x", otherKey).Content.ToArray()).ToArray());

        var refusal = Assert.Throws<CertificateImportException>(() => Import(file));

        Assert.Equal(ImportFailureReason.KeyDoesNotMatch, refusal.Reason);
        Assert.Equal("bundle.pem: the private key (RSA 2048) belongs to none of the 1 certificates in the file. " +
                     "Upload the key together with its own certificate, or upload the key and the certificates as separate files.", refusal.Message);
        Assert.Empty(_bed.Store.ListCertificates());
        Assert.Empty(_bed.Store.ListKeys());
    }

    [Fact]
    public void ACertificateItsNamedIssuerDidNotSignIsRefusedAndNothingIsStored()
    {
        var root = _bed.Root();
        var impostor = _bed.Root(); // same name, another key
        using var key = RSA.Create(2048);
        var leaf = _bed.Leaf(root, key, days: 90);

        var refusal = Assert.Throws<CertificateImportException>(() => Import(Pem("chain.pem", leaf, impostor.Certificate)));

        Assert.Equal(ImportFailureReason.SignatureInvalid, refusal.Reason);
        Assert.Equal($"chain.pem: the signature of certificate 'www.example.com' does not verify against its issuer '{CertificateFacts.Read(leaf).Issuer}'; " +
                     "the file is damaged or was not issued by that authority. Get the certificate again from your CA.", refusal.Message);
        Assert.Empty(_bed.Store.ListCertificates());
        Assert.Equal(0, _bed.Changes);
    }

    [Fact]
    public void EachImportRaisesChangedOnce()
    {
        var root = _bed.Root();

        Import(Pem("root.pem", root.Certificate));

        Assert.Equal(1, _bed.Changes);
    }
}
