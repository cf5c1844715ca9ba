using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Appliance.Tpm.Sessions;

/// <summary>The key derivation and the parameter cipher of TPM 2.0 sessions, SHA-256 only.</summary>
internal static class TpmKdf
{
    /// <summary>
    /// KDFa (Part 1, 11.4.10.2; SP 800-108 counter mode with HMAC):
    /// HMAC(key, [i]32 || label || 00 || contextU || contextV || [bits]32) for i = 1, 2, ...
    /// </summary>
    public static byte[] KdfA(ReadOnlySpan<byte> key, string label, ReadOnlySpan<byte> contextU, ReadOnlySpan<byte> contextV, int bits)
    {
        var labelBytes = Encoding.ASCII.GetBytes(label);
        var input = new byte[4 + labelBytes.Length + 1 + contextU.Length + contextV.Length + 4];
        labelBytes.CopyTo(input, 4);
        contextU.CopyTo(input.AsSpan(4 + labelBytes.Length + 1));
        contextV.CopyTo(input.AsSpan(4 + labelBytes.Length + 1 + contextU.Length));
        BinaryPrimitives.WriteUInt32BigEndian(input.AsSpan(input.Length - 4), (uint)bits);
        var keyBytes = key.ToArray();
        try
        {
            return Iterate(bits, input, (counterInput, output) => HMACSHA256.HashData(keyBytes, counterInput, output));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyBytes);
        }
    }

    /// <summary>
    /// KDFe (Part 1, 11.4.10.3; SP 800-56A concatenation KDF): H([i]32 || Z || label || 00 || partyUInfo || partyVInfo).
    /// Used to turn an ECDH shared x-coordinate into a session salt.
    /// </summary>
    public static byte[] KdfE(ReadOnlySpan<byte> z, string label, ReadOnlySpan<byte> partyUInfo, ReadOnlySpan<byte> partyVInfo, int bits)
    {
        var labelBytes = Encoding.ASCII.GetBytes(label);
        var input = new byte[4 + z.Length + labelBytes.Length + 1 + partyUInfo.Length + partyVInfo.Length];
        z.CopyTo(input.AsSpan(4));
        labelBytes.CopyTo(input, 4 + z.Length);
        partyUInfo.CopyTo(input.AsSpan(4 + z.Length + labelBytes.Length + 1));
        partyVInfo.CopyTo(input.AsSpan(4 + z.Length + labelBytes.Length + 1 + partyUInfo.Length));
        try
        {
            return Iterate(bits, input, (counterInput, output) => SHA256.HashData(counterInput, output));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    /// <summary>AES in full-block CFB mode as the TPM uses it for parameter encryption (Part 1, 11.4.6.3); a last partial block is truncated.</summary>
    public static void AesCfb(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, Span<byte> data, bool encrypt)
    {
        using var aes = Aes.Create();
        aes.Key = key.ToArray();
        Span<byte> feedback = stackalloc byte[16];
        Span<byte> keyStream = stackalloc byte[16];
        iv.CopyTo(feedback);
        for (var offset = 0; offset < data.Length; offset += 16)
        {
            aes.EncryptEcb(feedback, keyStream, PaddingMode.None);
            var block = data.Slice(offset, Math.Min(16, data.Length - offset));
            for (var i = 0; i < block.Length; i++)
            {
                var input = block[i];
                block[i] = (byte)(input ^ keyStream[i]);
                feedback[i] = encrypt ? block[i] : input;
            }
        }

        CryptographicOperations.ZeroMemory(keyStream);
    }

    private delegate void Prf(ReadOnlySpan<byte> input, Span<byte> output);

    private static byte[] Iterate(int bits, byte[] input, Prf prf)
    {
        if (bits <= 0 || bits % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "Only whole bytes are derived.");
        }

        var result = new byte[bits / 8];
        Span<byte> block = stackalloc byte[32];
        for (uint counter = 1, offset = 0; offset < result.Length; counter++, offset += 32)
        {
            BinaryPrimitives.WriteUInt32BigEndian(input, counter);
            prf(input, block);
            block[..Math.Min(32, result.Length - (int)offset)].CopyTo(result.AsSpan((int)offset));
        }

        CryptographicOperations.ZeroMemory(block);
        return result;
    }
}
