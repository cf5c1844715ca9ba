using System.Security.Cryptography;

namespace Appliance.Tpm;

/// <summary>
/// The TPM-sealed vault key on disk (<c>vault.tpm</c> in the state directory, a <see cref="TpmSealedBlob"/>):
/// its names, a new key and its unsealing. It is written, renamed and removed through
/// <see cref="Appliance.Platform.Files.DurableFile"/>, so a power cut leaves the old or the new file, never a torn one.
/// </summary>
public static class TpmVaultKeyFile
{
    public const string FileName = "vault.tpm";

    /// <summary>A vault.tpm written during a migration, promoted to <see cref="FileName"/> once the keys are re-encrypted.</summary>
    public const string PendingFileName = "vault.tpm.new";

    public const int KeySize = 32;

    /// <summary>
    /// A new random vault key: the TPM's generator XOR the operating system's, so the key is as good as the
    /// better of the two (a weak or backdoored TPM RNG alone cannot predict it, nor a bad kernel pool alone).
    /// </summary>
    public static SecureBuffer NewVaultKey(TpmSealedVaultKey tpm)
    {
        var fromTpm = tpm.GetRandom(KeySize);
        try
        {
            if (fromTpm.Length != KeySize)
                throw new TpmVaultException(TpmVaultFailureReason.TpmError, $"The TPM returned {fromTpm.Length} random bytes instead of {KeySize}.");
            var key = new SecureBuffer(KeySize);
            RandomNumberGenerator.Fill(key.Span);
            for (var i = 0; i < KeySize; i++) key.Span[i] ^= fromTpm[i];
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(fromTpm);
        }
    }

    public static TpmSealedBlob Read(string path) => TpmSealedBlob.Parse(File.ReadAllBytes(path));

    /// <summary>Unseals the vault key in <paramref name="path"/>; the caller disposes the buffer (which zeroes it).</summary>
    public static SecureBuffer Unseal(TpmSealedVaultKey tpm, string path)
    {
        var key = tpm.Unseal(Read(path));
        if (key.Length == KeySize) return key;
        var length = key.Length;
        key.Dispose();
        throw new TpmVaultException(TpmVaultFailureReason.InvalidBlob,
            $"{path} unsealed to {length} bytes, not the {KeySize} of a vault key; restore it from backup or re-import the certificates with their private keys.");
    }
}
