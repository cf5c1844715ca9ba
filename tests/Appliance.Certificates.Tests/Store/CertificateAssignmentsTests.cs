using System.Security.Cryptography;
using Appliance.Certificates.Store;
using static Appliance.Certificates.Tests.Store.StoreTestBed;

namespace Appliance.Certificates.Tests.Store;

public sealed class CertificateAssignmentsTests : IDisposable
{
    private readonly StoreTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    private string Refusal(params CertificateAssignment[] assignments) =>
        Assert.Throws<CertificateStoreException>(() => _bed.Store.SetAssignments(assignments)).Message;

    [Fact]
    public void AnAssignmentIsKeptInCanonicalFormAndShownOnTheCertificate()
    {
        using var key = RSA.Create(2048);
        var leaf = _bed.ImportServer(_bed.Root(), key, days: 90);

        _bed.Store.SetAssignments([new CertificateAssignment("::ffff:192.0.2.10", leaf.Id), new CertificateAssignment("2001:DB8::10", null)]);

        Assert.Equal([new CertificateAssignment("192.0.2.10", leaf.Id), new CertificateAssignment("2001:db8::10", null)], _bed.NewStore().ListAssignments());
        Assert.Equal(["192.0.2.10"], _bed.Store.GetCertificate(leaf.Id).BoundAddresses);
    }

    [Fact]
    public void AssigningAnotherCertificateOrNoneReplacesTheAddressesAssignmentOnly()
    {
        using var key = RSA.Create(2048);
        using var otherKey = RSA.Create(2048);
        var root = _bed.Root();
        var first = _bed.ImportServer(root, key, days: 90);
        var second = _bed.ImportServer(root, otherKey, days: 90, commonName: "shop.example.com");
        _bed.Store.SetAssignments([new CertificateAssignment("192.0.2.10", first.Id), new CertificateAssignment("192.0.2.11", first.Id)]);

        _bed.Store.SetAssignments([new CertificateAssignment("192.0.2.10", second.Id)]);
        _bed.Store.SetAssignments([new CertificateAssignment("192.0.2.11", null)]);

        Assert.Equal([new CertificateAssignment("192.0.2.10", second.Id), new CertificateAssignment("192.0.2.11", null)], _bed.Store.ListAssignments());
        Assert.Empty(_bed.Store.GetCertificate(first.Id).BoundAddresses);
    }

    [Fact]
    public void OnlyAStoredServerCertificateWithItsKeyIsAssignedAndARefusedBatchChangesNothing()
    {
        using var key = RSA.Create(2048);
        var root = _bed.Root();
        var leaf = _bed.ImportServer(root, key, days: 90);
        using var keylessKey = RSA.Create(2048);
        var keyless = _bed.Leaf(root, keylessKey, days: 90, commonName: "keyless.example.com");
        _bed.Store.Import([Pem("keyless.pem", keyless)], null, TestContext.Current.CancellationToken);
        _bed.Store.Import([KeyPem("root-key.pem", root.Key)], null, TestContext.Current.CancellationToken);
        var good = new CertificateAssignment("192.0.2.10", leaf.Id);

        Assert.Equal("'keyless.example.com' has no private key on this appliance, so it cannot serve 192.0.2.11; import its private key first.",
            Refusal(good, new CertificateAssignment("192.0.2.11", Id(keyless))));
        Assert.Equal("'Example Root CA' is a certificate authority, not a server certificate; assign a server certificate to 192.0.2.11.",
            Refusal(good, new CertificateAssignment("192.0.2.11", Id(root.Certificate))));
        Assert.Equal("'not-an-address' is not an IP address; give addresses such as 192.0.2.10 or 2001:db8::10.",
            Refusal(good, new CertificateAssignment("not-an-address", null)));
        Assert.Equal("There is no certificate with id '0123456789abcdef'; it may have been deleted. Reload the certificate list.",
            Refusal(good, new CertificateAssignment("192.0.2.11", "0123456789abcdef")));
        Assert.Empty(_bed.Store.ListAssignments());
    }
}
