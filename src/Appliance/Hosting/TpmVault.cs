using System.Runtime.ExceptionServices;
using Appliance.Storage;
using Appliance.Certificates.Store;
using Appliance.Certificates.Vault;
using Appliance.Platform.Files;
using Appliance.Tpm;

namespace Appliance.Hosting;

/// <summary>
/// The TPM-sealed vault's files in the state directory: creates <c>vault.tpm</c> at first start, unseals it at every
/// start, and migrates a software vault (<c>vault.key</c>) to the TPM. It finds what each key file can do, lets
/// <see cref="VaultMigration.Decide"/> choose the step (the protocol and its crash states are described there) and
/// carries it out.
/// </summary>
internal sealed class TpmVault(TpmSealedVaultKey tpm, string stateDirectory, IReadOnlyList<int> pcrs, StateDatabase database)
{
    private string SealedPath => Path.Combine(stateDirectory, TpmVaultKeyFile.FileName);
    private string PendingPath => Path.Combine(stateDirectory, TpmVaultKeyFile.PendingFileName);
    private string SoftwarePath => Path.Combine(stateDirectory, SoftwareVaultKey.FileName);

    /// <summary>The step the last <see cref="Open"/> chose (also when it then failed), for the start-up log.</summary>
    public VaultMigrationDecision? Decision { get; private set; }

    /// <summary>The number of keys a migration re-encrypted; null when none ran.</summary>
    public int? Reencrypted { get; private set; }

    /// <summary>The PCRs of a newly created vault.tpm ("none" for none); null when none was created.</summary>
    public string? CreatedWithPcrs { get; private set; }

    /// <summary>A vault key could not be locked in memory (mlock failed).</summary>
    public bool KeyNotLocked { get; private set; }

    /// <summary>
    /// The open vault. Throws <see cref="TpmVaultException"/> when the TPM cannot unseal the key that is needed,
    /// and <see cref="VaultUnavailableException"/> when no key file opens the stored keys; no file is changed then.
    /// </summary>
    public AesGcmKeyVault Open()
    {
        using var sealedKey = OpenKey(SealedPath, Unseal);
        using var pending = OpenKey(PendingPath, Unseal);
        using var software = OpenKey(SoftwarePath, _ => SoftwareVault());
        var decision = VaultMigration.Decide(new VaultFindings(sealedKey.Finding, pending.Finding, software.Finding));
        Decision = decision;
        switch (decision.Step)
        {
            case VaultStep.Create:
                return Create();
            case VaultStep.UseSealed:
                return sealedKey.Take();
            case VaultStep.RemoveSoftware:
                DurableFile.SecurelyDelete(SoftwarePath);
                return sealedKey.Take();
            case VaultStep.Migrate:
                return Migrate(software.Vault!);
            case VaultStep.ReencryptIntoPending:
                Reencrypted = CertificateStore.ReencryptKeys(database, software.Vault!, pending.Vault!);
                Promote();
                return pending.Take();
            case VaultStep.PromotePending:
                Promote();
                return pending.Take();
            case VaultStep.DiscardPendingUseSealed:
                DurableFile.SecurelyDelete(PendingPath);
                return sealedKey.Take();
            case VaultStep.DiscardPendingMigrate:
                DurableFile.SecurelyDelete(PendingPath);
                return Migrate(software.Vault!);
            case VaultStep.FailSealed:
                throw sealedKey.Rethrow();
            case VaultStep.FailPending:
                throw pending.Rethrow();
            case VaultStep.FailSoftware:
                throw software.Rethrow();
            default:
                throw new VaultUnavailableException(
                    $"no vault key file opens the stored private keys (vault.tpm: {sealedKey.Finding}, vault.tpm.new: {pending.Finding}, vault.key: {software.Finding})");
        }
    }

    private AesGcmKeyVault Create()
    {
        using var key = TpmVaultKeyFile.NewVaultKey(tpm);
        NoteLocking(key);
        DurableFile.Write(SealedPath, tpm.Seal(key.Span, pcrs).ToBytes());
        CreatedWithPcrs = pcrs.Count == 0 ? "none" : string.Join(",", pcrs);
        return new AesGcmKeyVault(key.Span, "tpm");
    }

    /// <summary>Steps 1-4 of the migration (see <see cref="VaultMigration"/>).</summary>
    private AesGcmKeyVault Migrate(AesGcmKeyVault software)
    {
        using var key = TpmVaultKeyFile.NewVaultKey(tpm);
        NoteLocking(key);
        DurableFile.Write(PendingPath, tpm.Seal(key.Span, pcrs).ToBytes());
        var vault = new AesGcmKeyVault(key.Span, "tpm");
        Reencrypted = CertificateStore.ReencryptKeys(database, software, vault);
        Promote();
        return vault;
    }

    /// <summary>Steps 3-4: vault.tpm.new becomes vault.tpm, then vault.key goes.</summary>
    private void Promote()
    {
        DurableFile.Move(PendingPath, SealedPath);
        DurableFile.SecurelyDelete(SoftwarePath);
    }

    private KeyFile OpenKey(string path, Func<string, AesGcmKeyVault> open)
    {
        if (!File.Exists(path)) return new KeyFile(VaultKeyFinding.Absent, null, null);
        AesGcmKeyVault vault;
        try
        {
            vault = open(path);
        }
        catch (Exception e) when (e is TpmVaultException or InvalidOperationException)
        {
            return new KeyFile(VaultKeyFinding.Unusable, null, ExceptionDispatchInfo.Capture(e));
        }
        var finding = CertificateStore.OpensStoredKeys(database, vault) switch
        {
            true => VaultKeyFinding.OpensStoredKeys,
            false => VaultKeyFinding.OpensNone,
            null => VaultKeyFinding.NoStoredKeys,
        };
        return new KeyFile(finding, vault, null);
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

    private void NoteLocking(SecureBuffer key) => KeyNotLocked |= !key.IsLocked;

    /// <summary>One key file as found: the opened vault (disposed unless taken) or why it did not open.</summary>
    private sealed class KeyFile(VaultKeyFinding finding, AesGcmKeyVault? vault, ExceptionDispatchInfo? error) : IDisposable
    {
        public VaultKeyFinding Finding { get; } = finding;
        public AesGcmKeyVault? Vault { get; private set; } = vault;

        public AesGcmKeyVault Take()
        {
            var vault = Vault ?? throw new InvalidOperationException($"A {Finding} vault key file was chosen to open the vault.");
            Vault = null;
            return vault;
        }

        public Exception Rethrow()
        {
            error?.Throw();
            return new InvalidOperationException($"A {Finding} vault key file was reported as failed without an error.");
        }

        public void Dispose() => Vault?.Dispose();
    }
}
