using System.Security.Cryptography;
using System.Text;
using Appliance.Certificates.Vault;

namespace Appliance.Certificates.Tests;

/// <summary>Decrypt-and-use: the plaintext the vault hands out is zeroed once the callback is done with it.</summary>
public sealed class KeyVaultPlaintextTests : IDisposable
{
    private static readonly byte[] Binding = Encoding.ASCII.GetBytes("key-1");
    private readonly AesGcmKeyVault _vault = new(RandomNumberGenerator.GetBytes(32), "software");

    public void Dispose() => _vault.Dispose();

    [Fact]
    public void ThePlaintextHandedToTheCallbackIsZeroedWhenItReturns()
    {
        var secret = RandomNumberGenerator.GetBytes(48);
        byte[]? seen = null;
        var copy = _vault.OpenAndUse(_vault.Seal(secret, Binding), Binding, plaintext =>
        {
            seen = plaintext;
            Assert.Equal(secret, plaintext); // the real plaintext while the callback runs
            return plaintext.ToArray();
        });
        Assert.Equal(secret, copy);
        Assert.NotNull(seen);
        Assert.All(seen, b => Assert.Equal(0, b));
    }

    [Fact]
    public void ThePlaintextIsZeroedWhenTheCallbackThrows()
    {
        byte[]? seen = null;
        Assert.Throws<InvalidOperationException>(() => _vault.OpenAndUse<int>(_vault.Seal(RandomNumberGenerator.GetBytes(48), Binding), Binding, plaintext =>
        {
            seen = plaintext;
            throw new InvalidOperationException("the use failed");
        }));
        Assert.NotNull(seen);
        Assert.All(seen, b => Assert.Equal(0, b));
    }
}
