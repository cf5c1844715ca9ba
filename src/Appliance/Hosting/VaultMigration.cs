namespace Appliance.Hosting;

/// <summary>What one vault key file in the state directory can do for the stored private keys, as found at start.</summary>
internal enum VaultKeyFinding
{
    Absent,

    /// <summary>Present but cannot be opened (the TPM refuses to unseal it, or the file is malformed).</summary>
    Unusable,

    /// <summary>Opens the stored private keys (one is tried: <c>ReencryptKeys</c> swaps all rows or none).</summary>
    OpensStoredKeys,

    /// <summary>Opens, but not the stored private keys: they are under another key.</summary>
    OpensNone,

    /// <summary>Opens, and no private key is stored: any key will do.</summary>
    NoStoredKeys,
}

/// <summary>The three key files: <c>vault.tpm</c>, <c>vault.tpm.new</c> and <c>vault.key</c>.</summary>
internal sealed record VaultFindings(VaultKeyFinding Sealed, VaultKeyFinding Pending, VaultKeyFinding Software);

internal enum VaultStep
{
    /// <summary>No key file: seal a new vault key to <c>vault.tpm</c>.</summary>
    Create,

    UseSealed,

    /// <summary><c>vault.tpm</c> holds the keys and <c>vault.key</c> is left over: remove it securely.</summary>
    RemoveSoftware,

    /// <summary>The whole migration: new key to <c>vault.tpm.new</c>, re-encrypt from <c>vault.key</c>, promote, remove <c>vault.key</c>.</summary>
    Migrate,

    /// <summary>Migration steps 2-4 with the key already in <c>vault.tpm.new</c>.</summary>
    ReencryptIntoPending,

    /// <summary>Migration steps 3-4: rename <c>vault.tpm.new</c> over <c>vault.tpm</c>, remove <c>vault.key</c> if present.</summary>
    PromotePending,

    DiscardPendingUseSealed,

    /// <summary><c>vault.tpm.new</c> cannot be unsealed and never held the keys: remove it and migrate again.</summary>
    DiscardPendingMigrate,

    /// <summary>The files' own failure ends the opening (the vault stays closed, nothing is changed).</summary>
    FailSealed,
    FailPending,
    FailSoftware,

    /// <summary>No key file opens the stored keys: every file is kept for support.</summary>
    FailNoKeyOpens,
}

/// <param name="Resumed">Set when the step finishes a migration a crash interrupted: what was found, for the log.</param>
internal sealed record VaultMigrationDecision(VaultStep Step, string? Resumed = null);

/// <summary>
/// The vault migration from <c>vault.key</c> to the TPM as a decision over what the key files can do, so each crash
/// state is one row of a table test. The migration, each step durable before the next starts:
/// <list type="number">
/// <item>a NEW vault key is sealed by the TPM and written to <c>vault.tpm.new</c> (temp, fsync, rename, fsync dir);</item>
/// <item>every row of <c>keys</c> is re-encrypted from the software key to the new key in ONE SQLite transaction;</item>
/// <item><c>vault.tpm.new</c> is renamed to <c>vault.tpm</c> (fsync dir);</item>
/// <item><c>vault.key</c> is overwritten with zeros, fsynced and unlinked.</item>
/// </list>
/// The crash states: (a) during 1: only vault.key, migrate again; (b) after 1, before 2 commits: vault.tpm.new and
/// vault.key, rows under vault.key: re-encrypt again with the same new key; (c) after 2 commits: rows under
/// vault.tpm.new: promote it and remove vault.key; (d) between 3 and 4: vault.tpm opens the rows, remove vault.key;
/// (e) the TPM was replaced mid-migration: vault.tpm.new cannot be unsealed but never held the rows, discard it and
/// migrate again. No step deletes or overwrites the only key that opens the rows.
/// </summary>
internal static class VaultMigration
{
    public static VaultMigrationDecision Decide(VaultFindings found)
    {
        if (found.Pending != VaultKeyFinding.Absent) return DecideWithPending(found);
        if (found.Sealed == VaultKeyFinding.Unusable) return new(VaultStep.FailSealed);
        if (found.Sealed != VaultKeyFinding.Absent)
        {
            if (found.Software == VaultKeyFinding.Absent) return new(VaultStep.UseSealed);
            if (found.Sealed != VaultKeyFinding.OpensNone)
                return new(VaultStep.RemoveSoftware, "vault.tpm opens the stored keys; vault.key removed");
            // vault.tpm opens none of the rows and vault.key is still here: the rows are the software key's.
            return MigrateFrom(found.Software);
        }
        return found.Software == VaultKeyFinding.Absent ? new(VaultStep.Create) : MigrateFrom(found.Software);
    }

    private static VaultMigrationDecision DecideWithPending(VaultFindings found)
    {
        if (found.Pending == VaultKeyFinding.Unusable)
            return found.Software is VaultKeyFinding.OpensStoredKeys or VaultKeyFinding.NoStoredKeys
                ? new(VaultStep.DiscardPendingMigrate, "vault.tpm.new could not be unsealed and held no keys; migrating vault.key again")
                : new(VaultStep.FailPending);
        if (found.Software == VaultKeyFinding.Absent)
        {
            // vault.key goes only after the promotion, so vault.tpm.new is a copy left behind: keep whichever key opens the rows.
            if (found.Sealed != VaultKeyFinding.Absent && found.Pending == VaultKeyFinding.OpensNone)
                return found.Sealed == VaultKeyFinding.Unusable
                    ? new(VaultStep.FailSealed)
                    : new(VaultStep.DiscardPendingUseSealed, "vault.tpm.new opens none of the stored keys; removed, vault.tpm kept");
            return new(VaultStep.PromotePending, "vault.tpm.new was left beside no vault.key; promoted to vault.tpm");
        }
        if (found.Pending == VaultKeyFinding.OpensStoredKeys)
            return new(VaultStep.PromotePending, "the keys were already re-encrypted; vault.tpm.new promoted and vault.key removed");
        return found.Software switch
        {
            VaultKeyFinding.Unusable => new(VaultStep.FailSoftware),
            VaultKeyFinding.OpensNone => new(VaultStep.FailNoKeyOpens),
            _ => new(VaultStep.ReencryptIntoPending, "the keys were still under vault.key; re-encrypted again"),
        };
    }

    private static VaultMigrationDecision MigrateFrom(VaultKeyFinding software) => software switch
    {
        VaultKeyFinding.Unusable => new(VaultStep.FailSoftware),
        VaultKeyFinding.OpensNone => new(VaultStep.FailNoKeyOpens),
        _ => new(VaultStep.Migrate),
    };
}
