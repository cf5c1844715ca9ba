using Appliance.Hosting;
using static Appliance.Hosting.VaultKeyFinding;

namespace Appliance.Tests.Vault;

/// <summary>The vault migration's decision: every crash state of the protocol, and the rule that no step loses the only key.</summary>
public sealed class VaultMigrationTests
{
    [Theory]
    // Ordinary starts.
    [InlineData(nameof(Absent), nameof(Absent), nameof(Absent), nameof(VaultStep.Create))]
    [InlineData(nameof(OpensStoredKeys), nameof(Absent), nameof(Absent), nameof(VaultStep.UseSealed))]
    [InlineData(nameof(NoStoredKeys), nameof(Absent), nameof(Absent), nameof(VaultStep.UseSealed))]
    [InlineData(nameof(OpensNone), nameof(Absent), nameof(Absent), nameof(VaultStep.UseSealed))]
    [InlineData(nameof(Unusable), nameof(Absent), nameof(Absent), nameof(VaultStep.FailSealed))]
    // The first start with the TPM after a software vault, and (a) a crash while vault.tpm.new was written: only vault.key
    // (and perhaps a .tmp) is there, so it is migrated (again); a vault.key that is damaged or opens nothing stops it.
    [InlineData(nameof(Absent), nameof(Absent), nameof(OpensStoredKeys), nameof(VaultStep.Migrate))]
    [InlineData(nameof(Absent), nameof(Absent), nameof(NoStoredKeys), nameof(VaultStep.Migrate))]
    [InlineData(nameof(Absent), nameof(Absent), nameof(Unusable), nameof(VaultStep.FailSoftware))]
    [InlineData(nameof(Absent), nameof(Absent), nameof(OpensNone), nameof(VaultStep.FailNoKeyOpens))]
    // (b) a crash after vault.tpm.new was written, before the re-encryption committed: the rows are vault.key's.
    [InlineData(nameof(Absent), nameof(OpensNone), nameof(OpensStoredKeys), nameof(VaultStep.ReencryptIntoPending))]
    [InlineData(nameof(Absent), nameof(NoStoredKeys), nameof(NoStoredKeys), nameof(VaultStep.ReencryptIntoPending))]
    [InlineData(nameof(OpensNone), nameof(OpensNone), nameof(OpensStoredKeys), nameof(VaultStep.ReencryptIntoPending))]
    [InlineData(nameof(Absent), nameof(OpensNone), nameof(Unusable), nameof(VaultStep.FailSoftware))]
    [InlineData(nameof(Absent), nameof(OpensNone), nameof(OpensNone), nameof(VaultStep.FailNoKeyOpens))]
    // (c) a crash after the re-encryption committed, before vault.tpm.new was promoted: the rows are vault.tpm.new's.
    [InlineData(nameof(Absent), nameof(OpensStoredKeys), nameof(OpensNone), nameof(VaultStep.PromotePending))]
    [InlineData(nameof(OpensNone), nameof(OpensStoredKeys), nameof(OpensNone), nameof(VaultStep.PromotePending))]
    [InlineData(nameof(Absent), nameof(OpensStoredKeys), nameof(Unusable), nameof(VaultStep.PromotePending))]
    // (d) a crash after the promotion, before vault.key was removed: vault.tpm opens the rows.
    [InlineData(nameof(OpensStoredKeys), nameof(Absent), nameof(OpensNone), nameof(VaultStep.RemoveSoftware))]
    [InlineData(nameof(NoStoredKeys), nameof(Absent), nameof(NoStoredKeys), nameof(VaultStep.RemoveSoftware))]
    [InlineData(nameof(OpensNone), nameof(Absent), nameof(OpensStoredKeys), nameof(VaultStep.Migrate))]
    [InlineData(nameof(Unusable), nameof(Absent), nameof(OpensStoredKeys), nameof(VaultStep.FailSealed))]
    // (e) the TPM was replaced mid-migration: vault.tpm.new cannot be unsealed; vault.key still holds the rows.
    [InlineData(nameof(Absent), nameof(Unusable), nameof(OpensStoredKeys), nameof(VaultStep.DiscardPendingMigrate))]
    [InlineData(nameof(Absent), nameof(Unusable), nameof(NoStoredKeys), nameof(VaultStep.DiscardPendingMigrate))]
    [InlineData(nameof(Absent), nameof(Unusable), nameof(OpensNone), nameof(VaultStep.FailPending))]
    [InlineData(nameof(Absent), nameof(Unusable), nameof(Absent), nameof(VaultStep.FailPending))]
    // A vault.tpm.new left without vault.key (restored from a copy): whichever key opens the rows is kept.
    [InlineData(nameof(OpensStoredKeys), nameof(OpensNone), nameof(Absent), nameof(VaultStep.DiscardPendingUseSealed))]
    [InlineData(nameof(Unusable), nameof(OpensNone), nameof(Absent), nameof(VaultStep.FailSealed))]
    [InlineData(nameof(OpensNone), nameof(OpensStoredKeys), nameof(Absent), nameof(VaultStep.PromotePending))]
    [InlineData(nameof(Absent), nameof(OpensStoredKeys), nameof(Absent), nameof(VaultStep.PromotePending))]
    public void EachStateOfTheKeyFilesLeadsToOneStep(string sealedKey, string pending, string software, string expected)
    {
        var decision = VaultMigration.Decide(Found(sealedKey, pending, software));

        Assert.Equal(Enum.Parse<VaultStep>(expected), decision.Step);
    }

    [Theory]
    [InlineData(nameof(Absent), nameof(OpensNone), nameof(OpensStoredKeys), "the keys were still under vault.key; re-encrypted again")]
    [InlineData(nameof(Absent), nameof(OpensStoredKeys), nameof(OpensNone), "the keys were already re-encrypted; vault.tpm.new promoted and vault.key removed")]
    [InlineData(nameof(OpensStoredKeys), nameof(Absent), nameof(OpensNone), "vault.tpm opens the stored keys; vault.key removed")]
    [InlineData(nameof(Absent), nameof(Unusable), nameof(OpensStoredKeys), "vault.tpm.new could not be unsealed and held no keys; migrating vault.key again")]
    public void AFinishedInterruptedMigrationSaysWhatItFound(string sealedKey, string pending, string software, string expected)
    {
        Assert.Equal(expected, VaultMigration.Decide(Found(sealedKey, pending, software)).Resumed);
    }

    [Theory]
    [InlineData(nameof(Absent), nameof(Absent), nameof(Absent))]
    [InlineData(nameof(OpensStoredKeys), nameof(Absent), nameof(Absent))]
    [InlineData(nameof(Absent), nameof(Absent), nameof(OpensStoredKeys))]
    public void AnOrdinaryStartIsNotReportedAsAResumedMigration(string sealedKey, string pending, string software)
    {
        Assert.Null(VaultMigration.Decide(Found(sealedKey, pending, software)).Resumed);
    }

    [Fact]
    public void NoStepInAnyStateRemovesTheOnlyKeyThatOpensTheStoredKeysOrOneThatCouldNotBeOpened()
    {
        var findings = Enum.GetValues<VaultKeyFinding>();
        foreach (var sealedKey in findings)
        foreach (var pending in findings)
        foreach (var software in findings)
        {
            var found = new VaultFindings(sealedKey, pending, software);
            // Whether keys are stored is one fact of the database: every key that opens sees the same answer.
            var usable = new[] { sealedKey, pending, software }.Where(f => f is not (Absent or Unusable)).ToList();
            if (usable.Contains(NoStoredKeys) && usable.Any(f => f != NoStoredKeys)) continue;
            var step = VaultMigration.Decide(found).Step;
            var state = $"vault.tpm {sealedKey}, vault.tpm.new {pending}, vault.key {software}: {step}";
            var kept = Kept(step, found);
            var holder = new[] { sealedKey, pending, software }.Contains(OpensStoredKeys);
            // Rows move only by re-encryption into the key that is kept; otherwise a key that opens them must survive.
            if (holder && !MovesTheRows(step))
                Assert.True(kept.Contains(OpensStoredKeys), state);
            // A key that could not be opened may still be the one that holds the rows: it goes only when another key is known to hold them (or there are none).
            foreach (var (finding, removed) in new[] { (sealedKey, !kept.Sealed), (pending, !kept.Pending), (software, !kept.Software) })
                if (finding == Unusable && removed)
                    Assert.True(kept.Contains(OpensStoredKeys) || new[] { sealedKey, pending, software }.Contains(NoStoredKeys) || (MovesTheRows(step) && software == OpensStoredKeys), state);
        }
    }

    /// <summary>The findings by name (theory data cannot carry the appliance's internal enums).</summary>
    private static VaultFindings Found(string sealedKey, string pending, string software) =>
        new(Enum.Parse<VaultKeyFinding>(sealedKey), Enum.Parse<VaultKeyFinding>(pending), Enum.Parse<VaultKeyFinding>(software));

    private static bool MovesTheRows(VaultStep step) => step is VaultStep.Migrate or VaultStep.ReencryptIntoPending or VaultStep.DiscardPendingMigrate;

    /// <summary>Which files keep their key through the step (a promoted pending key counts as kept), and what the kept keys open.</summary>
    private static KeptFiles Kept(VaultStep step, VaultFindings found) => step switch
    {
        VaultStep.RemoveSoftware => new(true, true, false, [found.Sealed, found.Pending]),
        VaultStep.PromotePending => new(false, true, false, [found.Pending]),
        VaultStep.DiscardPendingUseSealed => new(true, false, true, [found.Sealed, found.Software]),
        VaultStep.ReencryptIntoPending => new(false, true, false, [OpensStoredKeys]),
        VaultStep.Migrate or VaultStep.DiscardPendingMigrate => new(false, false, false, [OpensStoredKeys]),
        _ => new(true, true, true, [found.Sealed, found.Pending, found.Software]),
    };

    private sealed record KeptFiles(bool Sealed, bool Pending, bool Software, VaultKeyFinding[] Findings)
    {
        public bool Contains(VaultKeyFinding finding) => Findings.Contains(finding);
    }
}
