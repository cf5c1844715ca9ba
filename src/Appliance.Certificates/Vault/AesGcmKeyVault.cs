using System.Security.Cryptography;

namespace Appliance.Certificates.Vault;

/// <summary>
/// AES-256-GCM under a 256-bit vault key. Blob layout: version byte (1) | 12-byte random nonce |
/// 16-byte tag | ciphertext. The vault key's origin (file or TPM) is the caller's business.
/// </summary>
/// <remarks>
/// The key is handed to one <see cref="AesGcm"/> at construction and lives only in its native
/// (OpenSSL) cipher context from then on: no managed copy that the GC could move and leave behind.
/// The caller zeroes its own buffer. One context is not safe for concurrent use, hence the lock.
/// </remarks>
public sealed class AesGcmKeyVault : IKeyVault, IDisposable
{
    private const byte FormatVersion = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly AesGcm? _gcm;
    private readonly Lock _lock = new();

    public AesGcmKeyVault(ReadOnlySpan<byte> vaultKey, string protection)
    {
        if (vaultKey.Length != 32) throw new ArgumentException("The vault key must be 32 bytes.", nameof(vaultKey));
        _gcm = new AesGcm(vaultKey, TagSize);
        Protection = protection;
    }

    private AesGcmKeyVault(string protection, string unavailableReason)
    {
        Protection = protection;
        UnavailableReason = unavailableReason;
    }

    /// <summary>A vault whose key could not be opened: every Open fails with <paramref name="reason"/>.</summary>
    public static AesGcmKeyVault Unavailable(string protection, string reason) => new(protection, reason);

    public string Protection { get; }
    public bool IsOpen => _gcm is not null;
    public string? UnavailableReason { get; }

    public byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var gcm = _gcm ?? throw new VaultUnavailableException(UnavailableReason ?? "The key vault is not open.");
        var blob = new byte[1 + NonceSize + TagSize + plaintext.Length];
        blob[0] = FormatVersion;
        var nonce = blob.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        lock (_lock)
            gcm.Encrypt(nonce, plaintext, blob.AsSpan(1 + NonceSize + TagSize), blob.AsSpan(1 + NonceSize, TagSize), associatedData);
        return blob;
    }

    public byte[] Open(ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData)
    {
        var gcm = _gcm ?? throw new VaultUnavailableException(UnavailableReason ?? "The key vault is not open.");
        if (sealedData.Length < 1 + NonceSize + TagSize || sealedData[0] != FormatVersion)
            throw new VaultUnavailableException("A stored private key is damaged (unknown vault format); re-import the certificate with its key.");
        // Pinned: the GC never moves it, so zeroing it (the caller's duty, see KeyVaultPlaintext) leaves no stale copy behind.
        var plaintext = GC.AllocateArray<byte>(sealedData.Length - 1 - NonceSize - TagSize, pinned: true);
        try
        {
            lock (_lock)
                gcm.Decrypt(sealedData.Slice(1, NonceSize), sealedData[(1 + NonceSize + TagSize)..], sealedData.Slice(1 + NonceSize, TagSize), plaintext, associatedData);
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw new VaultUnavailableException("A stored private key does not decrypt with this appliance's vault key; re-import the certificate with its key.");
        }
        return plaintext;
    }

    public void Dispose() => _gcm?.Dispose();
}
