using System.Security.Cryptography;
using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Tests;

public sealed class KeyFactoryTests
{
    [Theory]
    [InlineData("rsa-2048", KeyAlgorithm.Rsa, 2048)]
    [InlineData("rsa-3072", KeyAlgorithm.Rsa, 3072)]
    [InlineData("RSA-4096", KeyAlgorithm.Rsa, 4096)]
    [InlineData("ecdsa-p256", KeyAlgorithm.Ecdsa, 256)]
    [InlineData("ecdsa-p384", KeyAlgorithm.Ecdsa, 384)]
    public void GeneratesEachKeyTypeAndDescribesItAgainFromPkcs8(string type, KeyAlgorithm algorithm, int size)
    {
        using var key = KeyFactory.Generate(type);
        Assert.Equal(algorithm, key.Algorithm);
        Assert.Equal(size, key.KeySize);
        using var again = KeyFactory.FromPkcs8(key.Pkcs8.ToArray());
        Assert.Equal(key.SubjectPublicKeyInfo, again.SubjectPublicKeyInfo);
        Assert.Equal(size, again.KeySize);
        Assert.Equal($"{algorithm} {size} private key", key.ToString());
    }

    [Theory]
    [InlineData("rsa-2048", KeyAlgorithm.Rsa, 2048)]
    [InlineData("ecdsa-p384", KeyAlgorithm.Ecdsa, 384)]
    public void AStoredKeyIsDescribedAroundTheVaultsOwnBufferWhichDisposingZeroes(string type, KeyAlgorithm algorithm, int size)
    {
        using var made = KeyFactory.Generate(type);
        var plaintext = made.Pkcs8.ToArray();
        var stored = KeyFactory.FromStoredPkcs8(plaintext);
        Assert.Same(plaintext, stored.Pkcs8); // no second copy of the key
        Assert.Equal((algorithm, size), (stored.Algorithm, stored.KeySize));
        Assert.Equal(made.SubjectPublicKeyInfo, stored.SubjectPublicKeyInfo);
        stored.Dispose();
        Assert.All(plaintext, b => Assert.Equal(0, b));
    }

    [Fact]
    public void AStoredKeyThatIsNotPkcs8IsRefusedInWords()
    {
        var error = Assert.Throws<CryptographicException>(() => KeyFactory.FromStoredPkcs8([0x04, 0x02, 0x01, 0x02]));
        Assert.Equal("A stored private key is not PKCS#8; re-import the certificate with its key.", error.Message);
    }

    [Fact]
    public void RefusesAnUnknownKeyType()
    {
        var error = Assert.Throws<CertificateRequestException>(() => KeyFactory.Generate("rsa-1024"));
        Assert.Equal("The key type \"rsa-1024\" is not known. Choose one of rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384.", error.Message);
    }

    [Fact]
    public void RefusesAStoredKeyOfAnUnsupportedType()
    {
        using var weak = RSA.Create(1024);
        var error = Assert.Throws<CertificateImportException>(() => KeyFactory.FromPkcs8(weak.ExportPkcs8PrivateKey()));
        Assert.Equal(ImportFailureReason.KeyTooWeak, error.Reason);
    }

    [Fact]
    public void DisposeZeroesTheKeyBytes()
    {
        var key = KeyFactory.Generate("ecdsa-p256");
        key.Dispose();
        Assert.All(key.Pkcs8, b => Assert.Equal(0, b));
    }
}
