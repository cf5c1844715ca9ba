using System.Security.Cryptography;
using Appliance.Tpm.Marshalling;
using Appliance.Tpm.Tests.Infrastructure;

namespace Appliance.Tpm.Tests;

/// <summary>Our structures against tpm2-tools' (tpm2-tss) on the same swtpm: proves they are the standard ones.</summary>
[Collection("swtpm")]
public sealed class Tpm2ToolsInteropTests(SwtpmFixture fixture) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tpm2-tools-").FullName;

    [Fact]
    public void Tpm2ToolsLoadsAndUnsealsTheBlobsTheVaultWrites()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using (var vault = new TpmSealedVaultKey(fixture.Tpm.Connect()))
        {
            var blob = vault.Seal(key);
            File.WriteAllBytes(Path.Combine(_directory, "seal.pub"), blob.Public);
            File.WriteAllBytes(Path.Combine(_directory, "seal.priv"), blob.Private);
        }

        // Without a resource manager, tpm2-tools leave transient objects loaded: flush between steps (PITFALLS.md).
        Tool("tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", "ecc", "-c", "primary.ctx");
        Tool("tpm2_flushcontext", "-t");
        Tool("tpm2_load", "-C", "primary.ctx", "-u", "seal.pub", "-r", "seal.priv", "-c", "seal.ctx");
        Tool("tpm2_flushcontext", "-t");
        var unsealed = Tool("tpm2_unseal", "-c", "seal.ctx");
        Tool("tpm2_flushcontext", "-t");

        Assert.Equal(key, unsealed);
    }

    [Fact]
    public void OurStoragePrimaryIsTheOneTpm2ToolsCreatesByDefault()
    {
        Tool("tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", "ecc", "-c", "primary.ctx");
        Tool("tpm2_readpublic", "-c", "primary.ctx", "-o", "primary.pub");
        Tool("tpm2_flushcontext", "-t");
        var theirs = File.ReadAllBytes(Path.Combine(_directory, "primary.pub"));

        using var transport = fixture.Tpm.Connect();
        var client = new Tpm2Client(transport);
        var ours = client.CreatePrimary(TpmRh.Owner, TpmtPublic.EccStoragePrimary);
        client.FlushContext(ours.Handle);

        Assert.Equal(Convert.ToHexString(theirs), Convert.ToHexString(ours.Public.ToTpm2B()));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Runs a tpm2-tools command against this test's swtpm; its standard output (binary structures).</summary>
    private byte[] Tool(params string[] arguments) =>
        ExternalTools.RunIn(new ExternalTools.ToolRun(arguments[0], SwtpmInstance.InstallPackages, _directory,
            new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = fixture.Tpm.Tcti }), arguments[1..]).Output;
}
