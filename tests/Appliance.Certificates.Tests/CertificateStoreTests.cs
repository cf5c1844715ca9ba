using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Appliance.Certificates.Formats;
using Appliance.Storage;
using Appliance.Certificates.Store;
using Appliance.Certificates.Tests.Store;
using Appliance.Certificates.Vault;
using Microsoft.Data.Sqlite;

namespace Appliance.Certificates.Tests;

/// <summary>What the store keeps beside each certificate's DER (derived data, signature checks) so that loading it parses nothing.</summary>
public sealed class CertificateStoreTests : IDisposable
{
    private static readonly DateTimeOffset Now = StoreTestBed.Start;
    private readonly StoreTestBed _bed = new();
    private readonly StateDatabase _database;
    private readonly AesGcmKeyVault _vault;

    public CertificateStoreTests() => (_database, _vault) = (_bed.Database, _bed.Vault);

    public void Dispose() => _bed.Dispose();

    /// <summary>A new store on the same database: what a restart sees, with nothing remembered in memory.</summary>
    private CertificateStore Restart() => _bed.NewStore();

    [Fact]
    public void ReadsShareOneViewUntilTheNextWriteWhichIsSeenAtOnce()
    {
        var (root, leaf) = Pki("Example Root CA");
        var store = Restart();
        store.Import([Pem("chain.pem", leaf, root)], null, TestContext.Current.CancellationToken);

        var first = store.ListCertificates();
        Assert.Same(first, store.ListCertificates());
        Assert.Same(store.ListRequests(), store.ListRequests());

        store.SetAssignments([new CertificateAssignment("192.0.2.10", null)]);
        Assert.NotSame(first, store.ListCertificates());
        Assert.Equal([new CertificateAssignment("192.0.2.10", null)], store.ListAssignments());
        var refused = Assert.Throws<CertificateStoreException>(() => store.SetDefault(Id(root)));
        Assert.Contains("cannot be the default", refused.Message);
        Assert.All(store.ListCertificates(), c => Assert.False(c.IsDefault));
    }

    [Fact]
    public void FactsReadFromTheStoredDataEqualFactsReadFromTheDer()
    {
        var (root, leaf) = Pki("Example Root CA");
        Restart().Import([Pem("chain.pem", leaf, root)], null, TestContext.Current.CancellationToken);

        foreach (var stored in Restart().ListCertificates())
        {
            var expected = CertificateFacts.Read(X509CertificateLoader.LoadCertificate(stored.Der.Span));
            Assert.Equal(expected with { SubjectAlternativeNames = [] }, stored.Facts with { SubjectAlternativeNames = [] });
            Assert.Equal(expected.SubjectAlternativeNames, stored.Facts.SubjectAlternativeNames);
        }
        var leafFacts = Restart().ListCertificates().Single(c => !c.Facts.IsCertificateAuthority).Facts;
        Assert.Equal(["www.example.com", "192.0.2.10"], leafFacts.SubjectAlternativeNames);
        Assert.Equal((KeyAlgorithm.Rsa, 2048), (leafFacts.KeyAlgorithm, leafFacts.KeySize));
    }

    [Fact]
    public void LoadingTheStoreParsesNoCertificate()
    {
        var (root, leaf) = Pki("Example Root CA");
        Restart().Import([Pem("chain.pem", leaf, root)], null, TestContext.Current.CancellationToken);

        var certificates = Restart().ListCertificates();

        Assert.Equal(2, certificates.Count);
        Assert.All(certificates, c => Assert.False(c.ParsedCertificate.IsValueCreated));
        Assert.All(certificates, c => Assert.True(c.ChainComplete));
        Assert.Equal(leaf.RawData, certificates.Single(c => !c.Facts.IsCertificateAuthority).Certificate.RawData);
    }

    [Fact]
    public void ARowStoredBeforeDerivedDataWasKeptIsFilledOnLoad()
    {
        // A database written by the first schema version only: the rows have no derived data and no signature checks.
        var (root, leaf) = Pki("Example Root CA");
        _database.Migrate(CertificateSchema.Module, [CertificateSchema.Migrations[0]]);
        InsertAsVersionOne(root);
        InsertAsVersionOne(leaf);

        var certificates = Restart().ListCertificates();

        var stored = certificates.Single(c => !c.Facts.IsCertificateAuthority);
        Assert.Equal(CertificateFacts.Read(leaf) with { SubjectAlternativeNames = [] }, stored.Facts with { SubjectAlternativeNames = [] });
        Assert.Equal([stored.Id, certificates.Single(c => c.Facts.IsCertificateAuthority).Id], stored.Chain);
        Assert.True(stored.ChainComplete);
        Assert.Equal([((long)DerivedCertificateData.Version, true), (DerivedCertificateData.Version, true)], Rows("SELECT derived_version, derived IS NOT NULL FROM certificates", r => (r.GetInt64(0), r.GetBoolean(1))));
        Assert.Equal(2, SignatureChecks().Count); // leaf by root, root by itself

        // The next start reads what was written back and parses nothing.
        Assert.All(Restart().ListCertificates(), c => Assert.False(c.ParsedCertificate.IsValueCreated));
    }

    [Theory]
    [InlineData("{\"not\": \"what we wrote\"}", 99)] // another version
    [InlineData("{\"not\": \"what we wrote\"}", 1)] // an older version
    [InlineData("{\"not\": \"what we wrote\"}", DerivedCertificateData.Version)] // unreadable
    [InlineData("{\"Facts\": null}", DerivedCertificateData.Version)]
    public void DerivedDataOfAnotherVersionOrUnreadableIsReadAgainFromTheDer(string derived, int version)
    {
        var (root, leaf) = Pki("Example Root CA");
        Restart().Import([Pem("chain.pem", leaf, root)], null, TestContext.Current.CancellationToken);
        Execute($"UPDATE certificates SET derived = '{derived}', derived_version = {version}");

        var stored = Restart().ListCertificates().Single(c => !c.Facts.IsCertificateAuthority);

        Assert.Equal(CertificateFacts.Read(leaf).Sha256Fingerprint, stored.Facts.Sha256Fingerprint);
        Assert.Equal([(long)DerivedCertificateData.Version, DerivedCertificateData.Version], Rows("SELECT derived_version FROM certificates", r => r.GetInt64(0)));
    }

    [Fact]
    public void KeepsEverySignatureCheckMadeForChainBuilding()
    {
        var (root, leaf) = Pki("Example Root CA");
        Restart().Import([Pem("chain.pem", leaf, root)], null, TestContext.Current.CancellationToken);

        Assert.Equal(
            new[] { (Sha256(leaf), Sha256(root), true), (Sha256(root), Sha256(root), true) }.Order(),
            SignatureChecks().Order());
    }

    [Fact]
    public void ChainBuildingTrustsTheKeptSignatureChecksAsWritten()
    {
        var (root, leaf) = Pki("Example Root CA");
        Restart().Import([Pem("chain.pem", leaf, root)], null, TestContext.Current.CancellationToken);
        // The table is the store's own state: a verdict written there is not checked again.
        Execute($"UPDATE signature_checks SET verified = 0 WHERE certificate_sha256 = '{Sha256(leaf)}' AND issuer_sha256 = '{Sha256(root)}'");

        var stored = Restart().ListCertificates().Single(c => !c.Facts.IsCertificateAuthority);

        Assert.False(stored.ChainComplete);
        Assert.Equal([stored.Id], stored.Chain);
    }

    [Fact]
    public void ARefusedSignatureCheckIsKeptAndTheRealIssuerChosen()
    {
        // Two roots with the same name and different keys: only one signed the leaf.
        var (root, leaf) = Pki("Example Root CA");
        var (impostor, _) = Pki("Example Root CA");
        Restart().Import([Pem("chain.pem", leaf, root, impostor)], null, TestContext.Current.CancellationToken);

        var stored = Restart().ListCertificates();

        Assert.Contains((Sha256(leaf), Sha256(impostor), false), SignatureChecks());
        Assert.Equal([Id(leaf), Id(root)], stored.Single(c => c.Id == Id(leaf)).Chain);
    }

    [Fact]
    public void DeletingACertificateDeletesItsSignatureChecks()
    {
        var (root, leaf) = Pki("Example Root CA");
        var store = Restart();
        store.Import([Pem("chain.pem", leaf, root)], null, TestContext.Current.CancellationToken);

        store.Delete(Id(leaf));
        Assert.Equal([(Sha256(root), Sha256(root), true)], SignatureChecks());

        store.Delete(Id(root));
        Assert.Empty(SignatureChecks());
    }

    [Fact]
    public void AChainIsCompletedWhenItsIssuerIsImportedLater()
    {
        var (root, leaf) = Pki("Example Root CA");
        var store = Restart();
        store.Import([Pem("leaf.pem", leaf)], null, TestContext.Current.CancellationToken);
        Assert.False(store.GetCertificate(Id(leaf)).ChainComplete);

        store.Import([Pem("root.pem", root)], null, TestContext.Current.CancellationToken);

        Assert.True(Restart().GetCertificate(Id(leaf)).ChainComplete);
        Assert.Contains((Sha256(leaf), Sha256(root), true), SignatureChecks());
    }

    [Fact]
    public void EveryPrivateKeyTheStoreDecryptsIsZeroedOnceTheHandshakeContextAndTheExportsAreDone()
    {
        var recording = new RecordingVault(_vault);
        var store = _bed.NewStore(recording);
        var factory = store.EnsureFactoryCertificate("box.example")!;

        using (var identity = store.OpenServingIdentity(factory)!)
            Assert.NotEmpty(identity.Pkcs8); // what TLS context creation reads
        store.Export(new ExportSpec([factory.Id], true, true, false, "correct horse battery", ExportFormat.Pem));
        store.Export(new ExportSpec([factory.Id], true, true, false, "correct horse battery", ExportFormat.Pkcs12));

        Assert.Equal(3, recording.HandedOut.Count);
        Assert.All(recording.HandedOut, plaintext => Assert.True(plaintext.All(b => b == 0), "a decrypted private key was left in memory"));
    }

    /// <summary>The real vault, remembering every plaintext buffer it hands out.</summary>
    private sealed class RecordingVault(IKeyVault inner) : IKeyVault
    {
        public List<byte[]> HandedOut { get; } = [];
        public string Protection => inner.Protection;
        public bool IsOpen => inner.IsOpen;
        public byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData) => inner.Seal(plaintext, associatedData);
        public byte[] Open(ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData)
        {
            var plaintext = inner.Open(sealedData, associatedData);
            HandedOut.Add(plaintext);
            return plaintext;
        }
    }

    // ---------------------------------------------------------------- helpers

    private static (X509Certificate2 Root, X509Certificate2 Leaf) Pki(string rootName)
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest(new X500DistinguishedName($"CN={rootName}, O=Example"), rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var rootWithKey = rootRequest.CreateSelfSigned(Now.AddDays(-1), Now.AddYears(5));

        using var leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest(new X500DistinguishedName("CN=www.example.com, O=Example"), leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("www.example.com");
        names.AddIpAddress(IPAddress.Parse("192.0.2.10"));
        leafRequest.CertificateExtensions.Add(names.Build());
        var leaf = leafRequest.Create(rootWithKey.SubjectName, X509SignatureGenerator.CreateForECDsa(rootKey), Now.AddDays(-1), Now.AddDays(90), RandomNumberGenerator.GetBytes(8));
        return (X509CertificateLoader.LoadCertificate(rootWithKey.RawData), leaf);
    }

    private static ImportFile Pem(string fileName, params X509Certificate2[] certificates) => StoreTestBed.Pem(fileName, certificates);

    private static string Sha256(X509Certificate2 certificate) => StoreTestBed.Sha256(certificate);

    private static string Id(X509Certificate2 certificate) => StoreTestBed.Id(certificate);

    /// <summary>A row as the first schema version wrote it.</summary>
    private void InsertAsVersionOne(X509Certificate2 certificate)
    {
        using var connection = _database.Open();
        using var command = Sql.Command(connection, null, """
            INSERT INTO certificates (id, der, sha256, public_key_sha256, friendly_name, source, is_factory, created_at)
            VALUES ($id, $der, $sha, $pk, $name, 'imported', 0, $t)
            """, ("$id", Id(certificate)), ("$der", certificate.RawData), ("$sha", Sha256(certificate)),
            ("$pk", CertificateFacts.PublicKeyHash(certificate.PublicKey.ExportSubjectPublicKeyInfo())), ("$name", certificate.Subject),
            ("$t", Now.ToString("O")));
        command.ExecuteNonQuery();
    }

    private void Execute(string sql)
    {
        using var connection = _database.Open();
        Sql.Execute(connection, null, sql);
    }

    private List<T> Rows<T>(string sql, Func<SqliteDataReader, T> read) => _bed.Rows(sql, read);

    private List<(string Certificate, string Issuer, bool Verified)> SignatureChecks() =>
        Rows("SELECT certificate_sha256, issuer_sha256, verified FROM signature_checks", r => (r.GetString(0), r.GetString(1), r.GetInt64(2) != 0));
}
