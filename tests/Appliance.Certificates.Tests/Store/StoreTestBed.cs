using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using Appliance.Certificates.Vault;
using Appliance.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Certificates.Tests.Store;

/// <summary>
/// A certificate store on a real SQLite file in a temp directory, with a real software vault and a fake clock, and a
/// small PKI made relative to that clock. Each test class makes its own bed and disposes it.
/// </summary>
internal sealed class StoreTestBed : IDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Directory.CreateTempSubdirectory("certificate-store-").FullName;

    static StoreTestBed() => SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_sqlite3());

    public StoreTestBed()
    {
        Database = new StateDatabase(Path.Combine(_directory, "appliance.db"));
        Store = NewStore();
        Store.Changed += () => Changes++;
    }

    public FakeTimeProvider Time { get; } = new(Start);
    public AesGcmKeyVault Vault { get; } = new(RandomNumberGenerator.GetBytes(32), "software");
    public StateDatabase Database { get; }
    public CertificateStore Store { get; }

    /// <summary>How often <see cref="Store"/> raised Changed.</summary>
    public int Changes { get; private set; }

    /// <summary>A new store on the same database (what a restart sees), with <paramref name="vault"/> or the bed's vault.</summary>
    public CertificateStore NewStore(IKeyVault? vault = null) => new(Database, vault ?? Vault, Time);

    public void Dispose()
    {
        Vault.Dispose();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    // ---------------------------------------------------------------- a small PKI relative to the clock

    public (X509Certificate2 Certificate, ECDsa Key) Root(string name = "Example Root CA")
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}, O=Example"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var withKey = request.CreateSelfSigned(Start.AddDays(-1), Start.AddYears(5));
        return (X509CertificateLoader.LoadCertificate(withKey.RawData), key);
    }

    /// <summary>A server certificate for <paramref name="commonName"/> (also its DNS name) issued by <paramref name="root"/>, valid for <paramref name="days"/> days.</summary>
    public X509Certificate2 Leaf((X509Certificate2 Certificate, ECDsa Key) root, RSA key, int days, string commonName = "www.example.com")
    {
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}, O=Example"), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(commonName);
        request.CertificateExtensions.Add(names.Build());
        return request.Create(root.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(root.Key), Start.AddDays(-1), Start.AddDays(days),
            RandomNumberGenerator.GetBytes(8));
    }

    /// <summary>The certificate <paramref name="root"/> issues for a stored certificate request, valid for 90 days.</summary>
    public static X509Certificate2 Issue(StoredRequest request, (X509Certificate2 Certificate, ECDsa Key) root)
    {
        var csr = CertificateRequest.LoadSigningRequestPem(request.RequestData, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        return csr.Create(root.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(root.Key), Start, Start.AddDays(90), RandomNumberGenerator.GetBytes(8));
    }

    public static ImportFile Pem(string fileName, params X509Certificate2[] certificates) =>
        new(fileName, Encoding.ASCII.GetBytes(string.Concat(certificates.Select(c => c.ExportCertificatePem() + "\n"))));

    public static ImportFile KeyPem(string fileName, AsymmetricAlgorithm key) =>
        new(fileName, Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem() + "\n"));

    /// <summary>Imports the leaf with its key and the root; returns the leaf's stored entry.</summary>
    public StoredCertificate ImportServer((X509Certificate2 Certificate, ECDsa Key) root, RSA key, int days, string commonName = "www.example.com")
    {
        var leaf = Leaf(root, key, days, commonName);
        Store.Import([Pem("chain.pem", leaf, root.Certificate), KeyPem("key.pem", key)], null, TestContext.Current.CancellationToken);
        return Store.GetCertificate(Id(leaf));
    }

    public static string Sha256(X509Certificate2 certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));

    public static string Id(X509Certificate2 certificate) => Sha256(certificate)[..16];

    public static IPAddress Ip(string address) => IPAddress.Parse(address);

    public List<T> Rows<T>(string sql, Func<SqliteDataReader, T> read)
    {
        using var connection = Database.Open();
        using var command = Sql.Command(connection, null, sql);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }
}
