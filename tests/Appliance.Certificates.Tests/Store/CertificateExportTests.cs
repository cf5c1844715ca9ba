using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using static Appliance.Certificates.Tests.Store.StoreTestBed;

namespace Appliance.Certificates.Tests.Store;

public sealed class CertificateExportTests : IDisposable
{
    private const string Passphrase = "correct horse battery";
    private readonly StoreTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    private (StoredCertificate Leaf, StoredCertificate Root) Stored(RSA? leafKey = null)
    {
        var root = _bed.Root();
        using var made = leafKey is null ? RSA.Create(2048) : null;
        var key = leafKey ?? made!;
        var leaf = _bed.ImportServer(root, key, days: 90);
        return (leaf, _bed.Store.GetCertificate(Id(root.Certificate)));
    }

    [Fact]
    public void APemWithCertificateChainAndKeyHoldsThemInThatOrderNamedAfterTheFriendlyName()
    {
        var (leaf, root) = Stored();

        var file = _bed.Store.Export(new ExportSpec([leaf.Id], Certificate: true, PrivateKey: true, Chain: true, Passphrase, ExportFormat.Pem));

        Assert.Equal(("www.example.com.pem", "application/x-pem-file"), (file.FileName, file.ContentType));
        var pem = Encoding.ASCII.GetString(file.Content);
        var leafAt = pem.IndexOf(leaf.Certificate.ExportCertificatePem(), StringComparison.Ordinal);
        var rootAt = pem.IndexOf(root.Certificate.ExportCertificatePem(), StringComparison.Ordinal);
        var keyAt = pem.IndexOf("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal);
        Assert.True(leafAt == 0 && rootAt > leafAt && keyAt > rootAt, pem);
        using var exported = RSA.Create();
        exported.ImportFromEncryptedPem(pem.AsSpan(keyAt), Passphrase);
        Assert.Equal(leaf.Certificate.GetRSAPublicKey()!.ExportSubjectPublicKeyInfo(), exported.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public void SeveralCertificatesAsPkcs7AreOneBundleWithEachCertificateOnce()
    {
        var (leaf, root) = Stored();

        var file = _bed.Store.Export(new ExportSpec([leaf.Id, root.Id], Certificate: true, PrivateKey: false, Chain: true, null, ExportFormat.Pkcs7));

        Assert.Equal(("certificates.p7b", "application/pkcs7-mime"), (file.FileName, file.ContentType));
        var bundle = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificates(file.Content);
        Assert.Equal(new[] { leaf.Id, root.Id }.Order(), bundle.Select(c => Id(X509CertificateLoader.LoadCertificate(c.GetEncoded()))).Order());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("1234567")]
    public void APrivateKeyIsExportedOnlyWithAPassphraseOfAtLeastEightCharacters(string? passphrase)
    {
        var (leaf, _) = Stored();

        var refusal = Assert.Throws<CertificateStoreException>(() =>
            _bed.Store.Export(new ExportSpec([leaf.Id], true, true, false, passphrase, ExportFormat.Pem)));

        Assert.Equal("A private key is exported only with a passphrase of at least 8 characters; enter one and keep it safe.", refusal.Message);
    }

    [Fact]
    public void AConfirmedUnencryptedExportWritesTheKeyInClearAsPemAndOnlyThen()
    {
        var (leaf, _) = Stored();

        var file = _bed.Store.Export(new ExportSpec([leaf.Id], true, true, false, null, ExportFormat.Pem, UnencryptedPrivateKey: true));

        var pem = Encoding.ASCII.GetString(file.Content);
        Assert.Contains("-----BEGIN PRIVATE KEY-----", pem, StringComparison.Ordinal);
        Assert.DoesNotContain("ENCRYPTED", pem, StringComparison.Ordinal);
        using var exported = RSA.Create();
        exported.ImportFromPem(pem.AsSpan(pem.IndexOf("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal)));
        Assert.Equal(leaf.Certificate.GetRSAPublicKey()!.ExportSubjectPublicKeyInfo(), exported.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public void AnUnencryptedExportIsRefusedAsPkcs12AndTogetherWithAPassphrase()
    {
        var (leaf, _) = Stored();

        string Refusal(ExportSpec spec) => Assert.Throws<CertificateStoreException>(() => _bed.Store.Export(spec)).Message;

        Assert.Equal("A private key is exported without a passphrase only as PEM; choose PEM, or keep PKCS12 and set a passphrase of at least 8 characters.",
            Refusal(new ExportSpec([leaf.Id], true, true, false, null, ExportFormat.Pkcs12, UnencryptedPrivateKey: true)));
        Assert.Equal("A passphrase was given together with the confirmation to export the private key unencrypted; give one or the other (the passphrase is strongly recommended).",
            Refusal(new ExportSpec([leaf.Id], true, true, false, Passphrase, ExportFormat.Pem, UnencryptedPrivateKey: true)));
    }

    [Fact]
    public void EachRefusalSaysWhatToDoInstead()
    {
        var (leaf, root) = Stored();

        string Refusal(ExportSpec spec) => Assert.Throws<CertificateStoreException>(() => _bed.Store.Export(spec)).Message;

        Assert.Equal("Select at least one certificate to export.", Refusal(new ExportSpec([], true, false, false, null, ExportFormat.Pem)));
        Assert.Equal("Choose what to export: the certificate, the private key, the chain, or several of them.",
            Refusal(new ExportSpec([leaf.Id], false, false, false, null, ExportFormat.Pem)));
        Assert.Equal("'Example Root CA' has no private key on this appliance; export it without the private key.",
            Refusal(new ExportSpec([leaf.Id, root.Id], true, true, false, Passphrase, ExportFormat.Pem)));
        Assert.Equal("A PKCS#7 file holds certificates only; export private keys individually as PEM or PKCS#12.",
            Refusal(new ExportSpec([leaf.Id], true, true, false, Passphrase, ExportFormat.Pkcs7)));
        Assert.Equal("PKCS#12 export takes one certificate at a time; export each individually or choose PKCS#7 for certificates only.",
            Refusal(new ExportSpec([leaf.Id, root.Id], true, false, false, Passphrase, ExportFormat.Pkcs12)));
        Assert.Equal("There is no certificate with id '0123456789abcdef'; it may have been deleted. Reload the certificate list.",
            Refusal(new ExportSpec(["0123456789abcdef"], true, false, false, null, ExportFormat.Pem)));
    }

    [Fact]
    public void ExportAsAPureFunctionOpensOnlyTheKeysItWritesAndZeroesThem()
    {
        using var key = RSA.Create(2048);
        var (leaf, root) = Stored(key);
        var opened = new List<(string KeyId, PrivateKeyMaterial Key)>();
        PrivateKeyMaterial Open(string keyId)
        {
            var material = new PrivateKeyMaterial(key.ExportPkcs8PrivateKey(), KeyAlgorithm.Rsa, 2048, key.ExportSubjectPublicKeyInfo());
            opened.Add((keyId, material));
            return material;
        }
        var all = _bed.Store.ListCertificates();

        CertificateExport.Export(new ExportSpec([leaf.Id, root.Id], true, false, true, null, ExportFormat.Pem), all, Open);
        Assert.Empty(opened);

        CertificateExport.Export(new ExportSpec([leaf.Id], true, true, false, Passphrase, ExportFormat.Pkcs12), all, Open);
        var (keyId, material) = Assert.Single(opened);
        Assert.Equal(leaf.KeyId, keyId);
        Assert.All(material.Pkcs8, b => Assert.Equal(0, b));
    }
}
