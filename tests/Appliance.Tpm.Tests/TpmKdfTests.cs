using System.Security.Cryptography;
using Appliance.Tpm.Sessions;

namespace Appliance.Tpm.Tests;

public sealed class TpmKdfTests
{
    [Fact]
    public void CfbOverWholeBlocksEqualsDotNetsCfb128()
    {
        var key = RandomNumberGenerator.GetBytes(16);
        var iv = RandomNumberGenerator.GetBytes(16);
        var plain = RandomNumberGenerator.GetBytes(48);
        using var aes = Aes.Create();
        aes.Key = key;

        var data = plain.ToArray();
        TpmKdf.AesCfb(key, iv, data, encrypt: true);

        Assert.Equal(aes.EncryptCfb(plain, iv, PaddingMode.None, feedbackSizeInBits: 128), data);
    }

    [Fact]
    public void CfbDecryptsAPartialLastBlockBackToThePlaintext()
    {
        var key = RandomNumberGenerator.GetBytes(16);
        var iv = RandomNumberGenerator.GetBytes(16);
        var plain = RandomNumberGenerator.GetBytes(34);

        var data = plain.ToArray();
        TpmKdf.AesCfb(key, iv, data, encrypt: true);
        Assert.NotEqual(plain, data);
        TpmKdf.AesCfb(key, iv, data, encrypt: false);

        Assert.Equal(plain, data);
    }

    [Fact]
    public void KdfaFirstBlockIsHmacOverCounterLabelContextsAndBits()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        byte[] u = [1, 2];
        byte[] v = [3];

        var derived = TpmKdf.KdfA(key, "CFB", u, v, 256);

        // [1]32 || "CFB" || 00 || u || v || [256]32 (Part 1, 11.4.10.2)
        byte[] input = [0, 0, 0, 1, (byte)'C', (byte)'F', (byte)'B', 0, 1, 2, 3, 0, 0, 1, 0];
        Assert.Equal(HMACSHA256.HashData(key, input), derived);
    }

    [Fact]
    public void KdfeFirstBlockIsAHashOverCounterSecretLabelAndPartyInfo()
    {
        byte[] z = [9, 9];

        var derived = TpmKdf.KdfE(z, "SECRET", [1], [2], 256);

        byte[] input = [0, 0, 0, 1, 9, 9, .. "SECRET"u8, 0, 1, 2];
        Assert.Equal(SHA256.HashData(input), derived);
    }

    [Fact]
    public void KdfaLongerThanOneDigestContinuesWithTheNextCounter()
    {
        var key = RandomNumberGenerator.GetBytes(32);

        var derived = TpmKdf.KdfA(key, "XYZ", [], [], 384);

        byte[] second = [0, 0, 0, 2, (byte)'X', (byte)'Y', (byte)'Z', 0, 0, 0, 1, 0x80];
        Assert.Equal(48, derived.Length);
        Assert.Equal(HMACSHA256.HashData(key, second)[..16], derived[32..]);
    }
}
