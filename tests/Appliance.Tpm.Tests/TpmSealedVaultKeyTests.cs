using System.Security.Cryptography;
using Appliance.Tpm.Tests.Infrastructure;

namespace Appliance.Tpm.Tests;

[Collection("swtpm")]
public sealed class TpmSealedVaultKeyTests(SwtpmFixture fixture)
{
    private static readonly TpmRetryPolicy NoWait = new(3, TimeSpan.Zero);

    [Fact]
    public void UnsealReturnsTheKeyThatWasSealed()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using var vault = new TpmSealedVaultKey(fixture.Tpm.Connect(), NoWait);

        var blob = vault.Seal(key);
        using var unsealed = vault.Unseal(blob);

        Assert.Equal(key, unsealed.Span.ToArray());
    }

    [Fact]
    public void UnsealReturnsTheKeyAfterTheBlobWasStoredAndReadBack()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using var vault = new TpmSealedVaultKey(fixture.Tpm.Connect(), NoWait);

        var stored = vault.Seal(key, [16, 23]).ToBytes();
        using var unsealed = vault.Unseal(TpmSealedBlob.Parse(stored));

        Assert.Equal(key, unsealed.Span.ToArray());
    }

    [Fact]
    public void AnotherTpmCannotUnsealAndSaysSealedByOtherTpm()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        TpmSealedBlob blob;
        using (var vault = new TpmSealedVaultKey(fixture.Tpm.Connect(), NoWait))
        {
            blob = vault.Seal(key);
        }

        using var otherTpm = new SwtpmInstance();
        using var otherVault = new TpmSealedVaultKey(otherTpm.Connect(), NoWait);

        var error = Assert.Throws<TpmVaultException>(() => otherVault.Unseal(blob));

        Assert.Equal(TpmVaultFailureReason.SealedByOtherTpm, error.Reason);
        Assert.StartsWith("The vault key was sealed by a different TPM (TPM2_Load answered 0x", error.Message);
        Assert.EndsWith("Put the disk back in its box, or re-import the certificates with their private keys.", error.Message);
    }

    [Fact]
    public void ExtendingABoundPcrAfterSealingGivesPcrMismatchNamingThatPcr()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using var transport = fixture.Tpm.Connect();
        using var vault = new TpmSealedVaultKey(transport, NoWait);
        var blob = vault.Seal(key, [16, 23]);
        using (var unsealed = vault.Unseal(blob))
        {
            Assert.Equal(key, unsealed.Span.ToArray());
        }

        new Tpm2Client(transport).PcrExtend(23, Marshalling.TpmAlg.Sha256, SHA256.HashData("boot chain changed"u8));

        var error = Assert.Throws<TpmVaultException>(() => vault.Unseal(blob));
        Assert.Equal(TpmVaultFailureReason.PcrMismatch, error.Reason);
        Assert.Equal([23], error.MismatchedPcrs);
        Assert.Equal(
            "The vault key is bound to SHA-256 PCRs 16, 23 and PCR 23 no longer holds the value it was sealed against: the boot chain changed. Boot the previous configuration, or re-import the certificates with their private keys.",
            error.Message);
    }
}
