using System.Security.Cryptography;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using Appliance.Certificates.Vault;

namespace Appliance.Certificates.Tests.Store;

public sealed class KeyReencryptionTests : IDisposable
{
    private readonly StoreTestBed _bed = new();
    private readonly AesGcmKeyVault _tpm = new(RandomNumberGenerator.GetBytes(32), "tpm");

    public void Dispose()
    {
        _tpm.Dispose();
        _bed.Dispose();
    }

    private void TwoKeys()
    {
        _bed.Store.EnsureFactoryCertificate("box.example");
        _bed.Store.Create(new CreateCertificateSpec("Shop", "rsa-2048", new SubjectName(null, null, null, null, null, "shop.example"), [], false));
    }

    [Fact]
    public void WithNoKeyStoredNoVaultIsAskedAndNothingIsReencrypted()
    {
        Assert.Null(CertificateStore.OpensStoredKeys(_bed.Database, _bed.Vault));
        Assert.Equal(0, CertificateStore.ReencryptKeys(_bed.Database, _bed.Vault, _tpm));
    }

    [Fact]
    public void AfterReencryptionEveryKeyOpensWithTheNewVaultOnlyAndIsTheSameKey()
    {
        TwoKeys();
        var factory = _bed.Store.ListCertificates().Single(c => c.IsFactory);
        byte[] before;
        using (var identity = _bed.Store.OpenServingIdentity(factory)!) before = identity.Pkcs8.ToArray();

        Assert.Equal(2, CertificateStore.ReencryptKeys(_bed.Database, _bed.Vault, _tpm));

        Assert.True(CertificateStore.OpensStoredKeys(_bed.Database, _tpm));
        Assert.False(CertificateStore.OpensStoredKeys(_bed.Database, _bed.Vault));
        using var after = _bed.NewStore(_tpm).OpenServingIdentity(factory)!;
        Assert.Equal(before, after.Pkcs8);
        var refusal = Assert.Throws<CertificateStoreException>(() => _bed.NewStore().OpenServingIdentity(factory));
        Assert.Equal(StoreFailure.KeyUnavailable, refusal.Reason);
    }

    [Fact]
    public void AFailureOnAnyKeyLeavesEveryKeySealedUnderTheOldVault()
    {
        TwoKeys();
        var failing = new FailingOnSecondSeal(_tpm);

        Assert.Throws<VaultUnavailableException>(() => CertificateStore.ReencryptKeys(_bed.Database, _bed.Vault, failing));

        Assert.Equal(2, failing.Seals);
        Assert.True(CertificateStore.OpensStoredKeys(_bed.Database, _bed.Vault));
        foreach (var key in _bed.Store.ListKeys())
        {
            var sealedKey = _bed.Rows($"SELECT sealed FROM keys WHERE id = '{key.Id}'", r => (byte[])r[0]).Single();
            CryptographicOperations.ZeroMemory(_bed.Vault.Open(sealedKey, System.Text.Encoding.ASCII.GetBytes(key.Id)));
        }
    }

    /// <summary>The real vault, failing as a TPM that went away would on its second seal.</summary>
    private sealed class FailingOnSecondSeal(IKeyVault inner) : IKeyVault
    {
        public int Seals { get; private set; }
        public string Protection => inner.Protection;
        public bool IsOpen => inner.IsOpen;
        public byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData) =>
            ++Seals == 2 ? throw new VaultUnavailableException("The TPM did not answer.") : inner.Seal(plaintext, associatedData);
        public byte[] Open(ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData) => inner.Open(sealedData, associatedData);
    }
}
