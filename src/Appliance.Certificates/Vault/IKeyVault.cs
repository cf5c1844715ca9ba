namespace Appliance.Certificates.Vault;

/// <summary>
/// Encrypts private keys for storage. Implementations hold the vault key in memory only;
/// ciphertexts are bound to <c>associatedData</c> (the key's id) so a blob cannot be swapped between rows.
/// </summary>
public interface IKeyVault
{
    /// <summary>"software" or "tpm", as reported by status.</summary>
    string Protection { get; }

    /// <summary>False when the vault key could not be opened (another TPM, PCR mismatch): stored keys are unavailable.</summary>
    bool IsOpen { get; }

    byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData);

    /// <summary>
    /// Decrypts into a new buffer that the caller zeroes after use (<see cref="KeyVaultPlaintext.OpenAndUse{TResult}"/> does);
    /// throws <see cref="VaultUnavailableException"/> when the vault is not open or the blob fails authentication.
    /// </summary>
    byte[] Open(ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData);
}

public sealed class VaultUnavailableException(string message) : Exception(message);
