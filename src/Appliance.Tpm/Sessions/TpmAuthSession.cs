using System.Buffers.Binary;
using System.Security.Cryptography;
using Appliance.Tpm.Marshalling;

namespace Appliance.Tpm.Sessions;

/// <summary>
/// An HMAC or policy session started with TPM2_StartAuthSession, SHA-256, AES-128-CFB parameter
/// encryption. Holds the rolling nonces and the session key; one instance authorizes a sequence of
/// commands, each through <see cref="Authorize"/> then <see cref="Complete"/>.
/// Reference: TPM 2.0 Part 1, 19.6 (session key), 19.6.5 (HMAC), 21 (parameter encryption).
/// </summary>
internal sealed class TpmAuthSession : ITpmAuthorization, IDisposable
{
    public const int NonceSize = 32;
    private const int AesKeyBytes = 16;
    private const int AesBlockBytes = 16;

    private readonly byte[] _sessionKey;
    private byte[] _nonceCaller;
    private byte[] _nonceTpm;

    public TpmAuthSession(uint handle, TpmSe type, byte[] sessionKey, byte[] nonceCaller, byte[] nonceTpm, TpmaSession attributes)
    {
        Handle = handle;
        Type = type;
        _sessionKey = sessionKey;
        _nonceCaller = nonceCaller;
        _nonceTpm = nonceTpm;
        Attributes = attributes;
    }

    public uint Handle { get; }

    public TpmSe Type { get; }

    /// <summary>Sent with every command: continueSession, plus decrypt (command) and/or encrypt (response) parameter encryption.</summary>
    public TpmaSession Attributes { get; set; }

    /// <summary>The authValue of the entity this session authorizes (an HMAC session always uses it; a policy session only
    /// after TPM2_PolicyAuthValue, which this code does not send). Empty for the owner hierarchy and our sealed objects.</summary>
    public byte[] EntityAuth { get; set; } = [];

    public bool IsSalted => _sessionKey.Length != 0;

    /// <summary>sessionKey = KDFa(SHA-256, bindAuth || salt, "ATH", nonceTPM, nonceCaller, 256) (Part 1, 19.6.8); no bind here.</summary>
    public static byte[] DeriveSessionKey(ReadOnlySpan<byte> salt, ReadOnlySpan<byte> nonceTpm, ReadOnlySpan<byte> nonceCaller) =>
        salt.IsEmpty ? [] : TpmKdf.KdfA(salt, "ATH", nonceTpm, nonceCaller, 256);

    public TpmAuthCommand Authorize(TpmCc command, ReadOnlySpan<byte> names, Span<byte> parameters)
    {
        _nonceCaller = RandomNumberGenerator.GetBytes(NonceSize);
        if ((Attributes & TpmaSession.Decrypt) != 0)
        {
            CryptFirstParameter(parameters, _nonceCaller, _nonceTpm, encrypt: true, Tpm2Frame.CommandName(command));
        }

        // cpHash over the parameters as sent, that is after encryption (Part 1, 18.7).
        Span<byte> cpHash = stackalloc byte[SHA256.HashSizeInBytes];
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            hash.AppendData(UInt32((uint)command));
            hash.AppendData(names);
            hash.AppendData(parameters);
            hash.GetHashAndReset(cpHash);
        }

        var hmac = ComputeHmac(cpHash, _nonceCaller, _nonceTpm, Attributes);
        return new TpmAuthCommand(Handle, _nonceCaller, Attributes, hmac);
    }

    public void Complete(TpmCc command, in TpmAuthResponse response, Span<byte> parameters)
    {
        _nonceTpm = response.Nonce;
        Span<byte> rpHash = stackalloc byte[SHA256.HashSizeInBytes];
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            hash.AppendData(UInt32(0)); // responseCode: only successful responses carry sessions.
            hash.AppendData(UInt32((uint)command));
            hash.AppendData(parameters);
            hash.GetHashAndReset(rpHash);
        }

        var expected = ComputeHmac(rpHash, _nonceTpm, _nonceCaller, response.Attributes);
        if (!CryptographicOperations.FixedTimeEquals(expected, response.Hmac))
        {
            throw new TpmFormatException($"{Tpm2Frame.CommandName(command)}: the response HMAC does not verify; the response was altered on its way from the TPM.");
        }

        if ((Attributes & TpmaSession.Encrypt) != 0)
        {
            CryptFirstParameter(parameters, _nonceTpm, _nonceCaller, encrypt: false, Tpm2Frame.CommandName(command));
        }
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_sessionKey);

    // HMAC(sessionKey || authValue, pHash || nonceNewer || nonceOlder || sessionAttributes) (Part 1, 19.6.5);
    // nonceDecrypt/nonceEncrypt are absent because a command here has a single session.
    private byte[] ComputeHmac(ReadOnlySpan<byte> pHash, ReadOnlySpan<byte> nonceNewer, ReadOnlySpan<byte> nonceOlder, TpmaSession attributes)
    {
        var key = HmacKey();
        try
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
            hmac.AppendData(pHash);
            hmac.AppendData(nonceNewer);
            hmac.AppendData(nonceOlder);
            hmac.AppendData([(byte)attributes]);
            return hmac.GetHashAndReset();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private byte[] HmacKey()
    {
        var entityAuth = Type == TpmSe.Hmac ? EntityAuth : [];
        return [.. _sessionKey, .. entityAuth];
    }

    // The first parameter must be a TPM2B; only its data is enciphered (Part 1, 21.1).
    // Key and IV: KDFa(SHA-256, sessionKey || authValue, "CFB", nonceNewer, nonceOlder, 128 + 128) (Part 1, 21.3).
    private void CryptFirstParameter(Span<byte> parameters, ReadOnlySpan<byte> nonceNewer, ReadOnlySpan<byte> nonceOlder, bool encrypt, string command)
    {
        if (parameters.Length < 2)
        {
            throw new TpmFormatException($"{command}: parameter encryption needs a sized first parameter.");
        }

        var size = BinaryPrimitives.ReadUInt16BigEndian(parameters);
        if (size > parameters.Length - 2)
        {
            throw new TpmFormatException($"{command}: the first parameter says {size} bytes, only {parameters.Length - 2} are there.");
        }

        var key = HmacKey();
        var keyAndIv = TpmKdf.KdfA(key, "CFB", nonceNewer, nonceOlder, (AesKeyBytes + AesBlockBytes) * 8);
        try
        {
            TpmKdf.AesCfb(keyAndIv.AsSpan(0, AesKeyBytes), keyAndIv.AsSpan(AesKeyBytes, AesBlockBytes), parameters.Slice(2, size), encrypt);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(keyAndIv);
        }
    }

    private static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}
