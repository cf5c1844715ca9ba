using Appliance.Certificates.Storage;
using Appliance.Certificates.Store;
using Appliance.Certificates.Vault;
using Appliance.Platform.Files;
using Appliance.Tpm;

namespace Appliance.Hosting;

/// <summary>
/// The TPM-sealed vault's files in the state directory: creates <c>vault.tpm</c> at first start, unseals it
/// at every start, and migrates a software vault (<c>vault.key</c>) to the TPM.
/// </summary>
/// <remarks>
/// Migration, crash-safe at every step (each step is durable before the next starts):
/// <list type="number">
/// <item>a NEW vault key is sealed by the TPM and written to <c>vault.tpm.new</c> (temp, fsync, rename, fsync dir);</item>
/// <item>every row of <c>keys</c> is re-encrypted from the software key to the new key in ONE SQLite transaction;</item>
/// <item><c>vault.tpm.new</c> is renamed to <c>vault.tpm</c> (fsync dir);</item>
/// <item><c>vault.key</c> is overwritten with zeros, fsynced and unlinked.</item>
/// </list>
/// A crash before (2) commits leaves the rows under vault.key; after it, under vault.tpm.new. So at start, when
/// <c>vault.tpm.new</c> exists beside <c>vault.key</c>, the files alone cannot say which key the rows need: we try
/// the new key on a stored row (the transaction swaps all rows or none). If it opens, the commit happened and steps
/// 3-4 are finished; if not (or there are no rows), the re-encryption is run again with that same new key. A crash
/// between 3 and 4 leaves vault.tpm and vault.key: vault.tpm opens the rows, so vault.key is removed. No step deletes
/// the only key that opens the rows; a key that fails to unseal is never overwritten.
/// </remarks>
internal sealed class TpmVault(TpmSealedVaultKey tpm, string stateDirectory, IReadOnlyList<int> pcrs, StateDatabase database)
{
    private string SealedPath => Path.Combine(stateDirectory, TpmVaultKeyFile.FileName);
    private string PendingPath => Path.Combine(stateDirectory, TpmVaultKeyFile.PendingFileName);
    private string SoftwarePath => Path.Combine(stateDirectory, SoftwareVaultKey.FileName);

    public List<Action<ILogger>> Log { get; } = [];

    /// <summary>The open vault; throws <see cref="TpmVaultException"/> when the TPM cannot unseal the key.</summary>
    public AesGcmKeyVault Open()
    {
        if (File.Exists(PendingPath)) return ResumeMigration();
        if (File.Exists(SealedPath))
        {
            var vault = Unseal(SealedPath);
            if (File.Exists(SoftwarePath))
            {
                if (CertificateStore.OpensStoredKeys(database, vault) != false)
                {
                    DurableFile.SecurelyDelete(SoftwarePath);
                    Log.Add(logger => KeyVaultStartup.LogMigrationResumed(logger, "vault.tpm opens the stored keys; vault.key removed"));
                }
                else
                {
                    // vault.tpm opens none of the rows and vault.key is still here: the rows are the software key's.
                    vault.Dispose();
                    return Migrate();
                }
            }
            return vault;
        }
        return File.Exists(SoftwarePath) ? Migrate() : Create();
    }

    private AesGcmKeyVault Create()
    {
        using var key = TpmVaultKeyFile.NewVaultKey(tpm);
        NoteLocking(key);
        DurableFile.Write(SealedPath, tpm.Seal(key.Span, pcrs).ToBytes());
        var path = SealedPath;
        var pcrText = pcrs.Count == 0 ? "none" : string.Join(",", pcrs);
        Log.Add(logger => KeyVaultStartup.LogVaultCreated(logger, path, pcrText));
        return new AesGcmKeyVault(key.Span, "tpm");
    }

    private AesGcmKeyVault Migrate()
    {
        using var key = TpmVaultKeyFile.NewVaultKey(tpm);
        NoteLocking(key);
        DurableFile.Write(PendingPath, tpm.Seal(key.Span, pcrs).ToBytes());
        var vault = new AesGcmKeyVault(key.Span, "tpm");
        FinishMigration(vault);
        return vault;
    }

    private AesGcmKeyVault ResumeMigration()
    {
        AesGcmKeyVault pending;
        try
        {
            pending = Unseal(PendingPath);
        }
        catch (TpmVaultException) when (File.Exists(SoftwarePath) && SoftwareKeyOpensStoredKeys())
        {
            // The pending key cannot be unsealed (TPM replaced mid-migration) but it never held the rows: start over.
            File.Delete(PendingPath);
            Log.Add(logger => KeyVaultStartup.LogMigrationResumed(logger, "vault.tpm.new could not be unsealed and held no keys; migrating vault.key again"));
            return Migrate();
        }
        if (!File.Exists(SoftwarePath))
        {
            // vault.key goes only after the promotion, so this is a copy left behind; keep whichever key opens the rows.
            if (File.Exists(SealedPath) && CertificateStore.OpensStoredKeys(database, pending) == false)
            {
                pending.Dispose();
                File.Delete(PendingPath);
                return Unseal(SealedPath);
            }
            DurableFile.Move(PendingPath, SealedPath);
            return pending;
        }
        var committed = CertificateStore.OpensStoredKeys(database, pending) == true;
        Log.Add(logger => KeyVaultStartup.LogMigrationResumed(logger, committed
            ? "the keys were already re-encrypted; vault.tpm.new promoted and vault.key removed"
            : "the keys were still under vault.key; re-encrypted again"));
        FinishMigration(pending, alreadyCommitted: committed);
        return pending;
    }

    private void FinishMigration(AesGcmKeyVault vault, bool alreadyCommitted = false)
    {
        var count = 0;
        if (!alreadyCommitted)
        {
            using var software = SoftwareVault();
            count = CertificateStore.ReencryptKeys(database, software, vault);
        }
        DurableFile.Move(PendingPath, SealedPath);
        DurableFile.SecurelyDelete(SoftwarePath);
        Log.Add(logger => KeyVaultStartup.LogVaultMigrated(logger, count));
    }

    private AesGcmKeyVault SoftwareVault()
    {
        var key = SoftwareVaultKey.LoadOrCreate(stateDirectory);
        try
        {
            return new AesGcmKeyVault(key, "software");
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(key);
        }
    }

    private AesGcmKeyVault Unseal(string path)
    {
        using var key = TpmVaultKeyFile.Unseal(tpm, path);
        NoteLocking(key);
        return new AesGcmKeyVault(key.Span, "tpm");
    }

    private bool SoftwareKeyOpensStoredKeys()
    {
        using var software = SoftwareVault();
        return CertificateStore.OpensStoredKeys(database, software) != false;
    }

    private void NoteLocking(SecureBuffer key)
    {
        if (!key.IsLocked && !Log.Contains(LogNotLocked)) Log.Add(LogNotLocked);
    }

    private static readonly Action<ILogger> LogNotLocked = KeyVaultStartup.LogKeyNotLocked;
}
