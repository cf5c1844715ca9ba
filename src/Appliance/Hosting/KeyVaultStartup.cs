using Appliance.Storage;
using Appliance.Certificates.Store;
using Appliance.Certificates.Vault;
using Appliance.Tpm;

namespace Appliance.Hosting;

/// <summary>The opened key vault and what status says about it.</summary>
/// <param name="State">"open", "sealedByOtherTpm", "pcrMismatch" or "unavailable".</param>
internal sealed record KeyVaultState(AesGcmKeyVault Vault, string State, string Detail, TpmInfo? Tpm)
{
    /// <summary>Log calls made at start, before the host's logger exists; replayed once by <see cref="ApplianceServer"/>.</summary>
    internal List<Action<ILogger>> StartupLog { get; } = [];
}

/// <summary>The TPM named by --tpm cannot be used at all; the service refuses to start with this message.</summary>
internal sealed class KeyProtectionUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Opens the vault at start (DESIGN.md "The state and the keys"): the software key file, or the vault key
/// sealed by the TPM (made at first start, migrated from a software vault). A vault that cannot be opened
/// is never a crash and never overwritten: the service starts with the vault closed and status says why.
/// </summary>
internal static partial class KeyVaultStartup
{
    public const string OpenSoftwareDetail = "Private keys are encrypted with a key stored on disk (vault.key): they are not TPM-protected.";
    public const string OpenTpmDetail = "Private keys are sealed by this appliance's TPM.";
    private static readonly TimeSpan TpmTimeout = TimeSpan.FromSeconds(30);
    private const int BusyAttempts = 3;
    private static readonly TimeSpan BusyDelay = TimeSpan.FromSeconds(2);

    public static KeyVaultState Open(ServeOptions options, StateDatabase database)
    {
        if (options.KeyProtection == "software")
        {
            var key = SoftwareVaultKey.LoadOrCreate(options.StateDirectory);
            try
            {
                return new KeyVaultState(new AesGcmKeyVault(key, "software"), "open", OpenSoftwareDetail, null);
            }
            finally
            {
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(key);
            }
        }

        var device = options.Tpm ?? ServeOptions.DefaultTpmDevice;
        TpmSealedVaultKey tpm;
        try
        {
            tpm = TpmSealedVaultKey.Open(device, TpmTimeout);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TpmException or TpmFormatException or TpmVaultException or FormatException or TimeoutException)
        {
            throw new KeyProtectionUnavailableException(
                $"The TPM {device} cannot be used ({e.Message}). Pass the box's TPM with --tpm /dev/tpmrm0 (or a software TPM with --tpm swtpm:HOST:PORT), or start with --key-protection software to keep the vault key on disk.", e);
        }
        using (tpm)
        {
            TpmInfo? info = null;
            try
            {
                info = tpm.GetInfo();
            }
            catch (TpmException)
            {
                // Status shows no TPM facts; the vault below reports any real TPM failure.
            }
            var vaultFiles = new TpmVault(tpm, options.StateDirectory, options.TpmPcrs, database);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var state = new KeyVaultState(vaultFiles.Open(), "open", OpenTpmDetail, info);
                    state.StartupLog.AddRange(LogOf(vaultFiles, options.StateDirectory));
                    return state;
                }
                catch (TpmVaultException e) when (e.Reason is TpmVaultFailureReason.TpmBusy or TpmVaultFailureReason.TpmLockedOut && attempt < BusyAttempts)
                {
                    // The library already retried in the short term; a TPM busy with self-test or in a short lockout may recover in seconds.
                    Thread.Sleep(BusyDelay);
                }
                catch (TpmVaultException e)
                {
                    return Closed(e, info, LogOf(vaultFiles, options.StateDirectory));
                }
                catch (VaultUnavailableException e)
                {
                    // The keys opened with neither vault key during a migration: keep every file as it is for support.
                    var closed = new KeyVaultState(AesGcmKeyVault.Unavailable("tpm", e.Message), "unavailable",
                        $"The stored private keys open with neither the software vault key nor the TPM-sealed one ({e.Message}); vault.key and vault.tpm are kept unchanged. Contact support, or re-import the certificates with their private keys.", info);
                    closed.StartupLog.AddRange(LogOf(vaultFiles, options.StateDirectory));
                    closed.StartupLog.Add(logger => LogVaultClosed(logger, closed.State, closed.Detail));
                    return closed;
                }
            }
        }
    }

    /// <summary>What the vault files' opening did, as log calls (in the order it happened).</summary>
    private static List<Action<ILogger>> LogOf(TpmVault vault, string stateDirectory)
    {
        var log = new List<Action<ILogger>>();
        if (vault.KeyNotLocked) log.Add(LogKeyNotLocked);
        if (vault.CreatedWithPcrs is { } pcrs)
        {
            var path = Path.Combine(stateDirectory, TpmVaultKeyFile.FileName);
            log.Add(logger => LogVaultCreated(logger, path, pcrs));
        }
        if (vault.Decision?.Resumed is { } resumed) log.Add(logger => LogMigrationResumed(logger, resumed));
        if (vault.Reencrypted is { } count) log.Add(logger => LogVaultMigrated(logger, count));
        return log;
    }

    private static KeyVaultState Closed(TpmVaultException e, TpmInfo? info, IEnumerable<Action<ILogger>> log)
    {
        var (state, detail) = e.Reason switch
        {
            TpmVaultFailureReason.SealedByOtherTpm => ("sealedByOtherTpm",
                "The vault key (vault.tpm) was sealed by a different TPM: the disk was moved to another box or this TPM was cleared. " +
                "Every stored private key is unavailable, and TLS answers with a temporary factory certificate. " +
                "Restore the original TPM (put the disk back in its box), or re-import the certificates with their private keys."),
            TpmVaultFailureReason.PcrMismatch => ("pcrMismatch",
                $"{e.Message} Every stored private key is unavailable until then, and TLS answers with a temporary factory certificate."),
            _ => ("unavailable",
                $"The TPM could not open the vault key: {e.Message} Every stored private key is unavailable, and TLS answers with a temporary factory certificate; restart the service when the TPM answers again."),
        };
        var closed = new KeyVaultState(AesGcmKeyVault.Unavailable("tpm", detail), state, detail, info);
        closed.StartupLog.AddRange(log);
        closed.StartupLog.Add(logger => LogVaultClosed(logger, state, detail));
        return closed;
    }

    [LoggerMessage(EventId = EventIds.KeyVault.Closed, Level = LogLevel.Error, Message = "The key vault is closed ({State}): {Detail}")]
    internal static partial void LogVaultClosed(ILogger logger, string state, string detail);

    [LoggerMessage(EventId = EventIds.KeyVault.TpmKeyCreated, Level = LogLevel.Information, Message = "Created the TPM-sealed vault key {Path} (PCRs: {Pcrs})")]
    internal static partial void LogVaultCreated(ILogger logger, string path, string pcrs);

    [LoggerMessage(EventId = EventIds.KeyVault.MigratedToTpm, Level = LogLevel.Information, Message = "Migrated the software vault to the TPM: {Count} private keys re-encrypted, vault.key securely removed")]
    internal static partial void LogVaultMigrated(ILogger logger, int count);

    [LoggerMessage(EventId = EventIds.KeyVault.MigrationResumed, Level = LogLevel.Warning, Message = "Finished an interrupted vault migration: {Action}")]
    internal static partial void LogMigrationResumed(ILogger logger, string action);

    [LoggerMessage(EventId = EventIds.KeyVault.KeyNotLocked, Level = LogLevel.Warning, Message = "The vault key could not be locked in memory (mlock failed; raise LimitMEMLOCK): it may be swapped out")]
    internal static partial void LogKeyNotLocked(ILogger logger);
}
