using System.Text;
using Appliance.Storage;
using Appliance.Certificates.Store;
using Appliance.Certificates.Vault;
using Appliance.Hosting;
using Appliance.Tpm;
using Appliance.Tpm.Tests.Infrastructure;

namespace Appliance.Tests.Vault;

/// <summary>
/// The vault files' executor against real files: a state directory, its SQLite database, and a software TPM
/// (swtpm). Each crash state is laid out on disk as the crash would leave it, then the vault is opened.
/// </summary>
public sealed class TpmVaultTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly byte[] StoredKey = Encoding.ASCII.GetBytes("a PKCS#8 private key, as far as the vault can tell");

    static TpmVaultTests() => SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_sqlite3());

    private readonly SwtpmInstance _swtpm = new();
    private readonly string _state = Directory.CreateTempSubdirectory("tpm-vault-").FullName;
    private readonly StateDatabase _database;

    public TpmVaultTests() => _database = new StateDatabase(Path.Combine(_state, "state.db"));

    public void Dispose()
    {
        _swtpm.Dispose();
        Directory.Delete(_state, recursive: true);
    }

    private string FileOf(string name) => Path.Combine(_state, name);

    [Fact]
    public void AtFirstStartANewKeyIsSealedToVaultTpm()
    {
        var (vault, opener) = Open();

        Assert.Equal(VaultStep.Create, opener.Decision!.Step);
        Assert.True(File.Exists(FileOf("vault.tpm")));
        Assert.Equal("none", opener.CreatedWithPcrs);
        Assert.Equal(StoredKey, vault.Open(vault.Seal(StoredKey, "k"u8), "k"u8));
    }

    [Fact]
    public void ASoftwareVaultIsMigratedAndVaultKeyRemoved()
    {
        using var software = SoftwareVault();
        StoreKey(software);

        var (vault, opener) = Open();

        Assert.Equal(VaultStep.Migrate, opener.Decision!.Step);
        Assert.Equal(1, opener.Reencrypted);
        Assert.Equal(["state.db", "vault.tpm"], StateFiles());
        Assert.True(CertificateStore.OpensStoredKeys(_database, vault));
    }

    [Fact]
    public void ACrashBeforeTheReencryptionCommittedIsFinishedWithTheSamePendingKey()
    {
        using var software = SoftwareVault();
        StoreKey(software);
        var pendingBytes = SealNewKey("vault.tpm.new").Blob;

        var (vault, opener) = Open();

        Assert.Equal(VaultStep.ReencryptIntoPending, opener.Decision!.Step);
        Assert.Equal(1, opener.Reencrypted);
        Assert.Equal(pendingBytes, File.ReadAllBytes(FileOf("vault.tpm")));
        Assert.Equal(["state.db", "vault.tpm"], StateFiles());
        Assert.True(CertificateStore.OpensStoredKeys(_database, vault));
    }

    [Fact]
    public void ACrashAfterTheReencryptionCommittedPromotesThePendingKeyWithoutReencryptingAgain()
    {
        using var software = SoftwareVault();
        StoreKey(software);
        var (pendingBytes, pending) = SealNewKey("vault.tpm.new");
        using (pending) CertificateStore.ReencryptKeys(_database, software, pending);

        var (vault, opener) = Open();

        Assert.Equal(VaultStep.PromotePending, opener.Decision!.Step);
        Assert.Null(opener.Reencrypted);
        Assert.Equal(pendingBytes, File.ReadAllBytes(FileOf("vault.tpm")));
        Assert.Equal(["state.db", "vault.tpm"], StateFiles());
        Assert.True(CertificateStore.OpensStoredKeys(_database, vault));
    }

    [Fact]
    public void ACrashAfterThePromotionRemovesTheLeftOverVaultKey()
    {
        using var software = SoftwareVault();
        StoreKey(software);
        var (sealedBytes, sealedKey) = SealNewKey("vault.tpm");
        using (sealedKey) CertificateStore.ReencryptKeys(_database, software, sealedKey);

        var (vault, opener) = Open();

        Assert.Equal(VaultStep.RemoveSoftware, opener.Decision!.Step);
        Assert.Equal(sealedBytes, File.ReadAllBytes(FileOf("vault.tpm")));
        Assert.Equal(["state.db", "vault.tpm"], StateFiles());
        Assert.True(CertificateStore.OpensStoredKeys(_database, vault));
    }

    [Fact]
    public void APendingKeyAnotherTpmSealedIsDiscardedAndTheMigrationRunsAgain()
    {
        using var software = SoftwareVault();
        StoreKey(software);
        byte[] foreignBytes;
        using (var other = new SwtpmInstance())
            foreignBytes = SealNewKey("vault.tpm.new", other).Blob;

        var (vault, opener) = Open();

        Assert.Equal(VaultStep.DiscardPendingMigrate, opener.Decision!.Step);
        Assert.Equal(1, opener.Reencrypted);
        Assert.NotEqual(foreignBytes, File.ReadAllBytes(FileOf("vault.tpm")));
        Assert.Equal(["state.db", "vault.tpm"], StateFiles());
        Assert.True(CertificateStore.OpensStoredKeys(_database, vault));
    }

    [Fact]
    public void WhenNoKeyFileOpensTheStoredKeysEveryFileIsKept()
    {
        using (var lost = new AesGcmKeyVault(new byte[32], "software")) StoreKey(lost);
        using (SoftwareVault()) { }
        var pendingBytes = SealNewKey("vault.tpm.new").Blob;
        var softwareBytes = File.ReadAllBytes(FileOf("vault.key"));

        using var tpm = TpmSealedVaultKey.Open(_swtpm.Address, Timeout);
        var opener = new TpmVault(tpm, _state, [], _database);
        var error = Assert.Throws<VaultUnavailableException>(() => opener.Open());

        Assert.Equal("no vault key file opens the stored private keys (vault.tpm: Absent, vault.tpm.new: OpensNone, vault.key: OpensNone)", error.Message);
        Assert.Equal(pendingBytes, File.ReadAllBytes(FileOf("vault.tpm.new")));
        Assert.Equal(softwareBytes, File.ReadAllBytes(FileOf("vault.key")));
    }

    [Fact]
    public void AVaultTpmAnotherTpmSealedIsNeverOverwritten()
    {
        byte[] foreignBytes;
        using (var other = new SwtpmInstance())
            foreignBytes = SealNewKey("vault.tpm", other).Blob;

        using var tpm = TpmSealedVaultKey.Open(_swtpm.Address, Timeout);
        var opener = new TpmVault(tpm, _state, [], _database);
        Assert.Throws<TpmVaultException>(() => opener.Open());

        Assert.Equal(VaultStep.FailSealed, opener.Decision!.Step);
        Assert.Equal(foreignBytes, File.ReadAllBytes(FileOf("vault.tpm")));
    }

    private (AesGcmKeyVault Vault, TpmVault Opener) Open()
    {
        using var tpm = TpmSealedVaultKey.Open(_swtpm.Address, Timeout);
        var opener = new TpmVault(tpm, _state, [], _database);
        return (opener.Open(), opener);
    }

    private AesGcmKeyVault SoftwareVault()
    {
        var key = SoftwareVaultKey.LoadOrCreate(_state);
        return new AesGcmKeyVault(key, "software");
    }

    /// <summary>Seals a new vault key with <paramref name="swtpm"/> (this test's TPM by default) into the named file.</summary>
    private (byte[] Blob, AesGcmKeyVault Vault) SealNewKey(string name, SwtpmInstance? swtpm = null)
    {
        using var tpm = TpmSealedVaultKey.Open((swtpm ?? _swtpm).Address, Timeout);
        using var key = TpmVaultKeyFile.NewVaultKey(tpm);
        var blob = tpm.Seal(key.Span, []).ToBytes();
        File.WriteAllBytes(FileOf(name), blob);
        return (blob, new AesGcmKeyVault(key.Span, "tpm"));
    }

    private void StoreKey(IKeyVault vault)
    {
        Assert.Null(CertificateStore.OpensStoredKeys(_database, vault));
        using var connection = _database.Open();
        using var insert = Sql.Command(connection, null,
            "INSERT INTO keys (id, public_key_sha256, algorithm, key_size, sealed, created_at) VALUES ('k1', 'sha', 'RSA', 2048, $sealed, '2026-12-07T00:00:00Z')",
            ("$sealed", vault.Seal(StoredKey, "k1"u8)));
        insert.ExecuteNonQuery();
    }

    private string[] StateFiles() =>
        Directory.GetFiles(_state).Select(Path.GetFileName).Where(n => !n!.StartsWith("state.db-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray()!;
}
