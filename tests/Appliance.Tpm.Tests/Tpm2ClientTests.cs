using System.Security.Cryptography;
using Appliance.Tpm.Marshalling;
using Appliance.Tpm.Tests.Infrastructure;

namespace Appliance.Tpm.Tests;

[Collection("swtpm")]
public sealed class Tpm2ClientTests(SwtpmFixture fixture)
{
    [Fact]
    public void GetInfoReportsTheSimulatorsManufacturerAndFirmwareVersion()
    {
        using var transport = fixture.Tpm.Connect();

        var info = new Tpm2Client(transport).GetInfo();

        Assert.Equal("IBM", info.Manufacturer);
        Assert.Matches(@"^\d+\.\d+\.\d+\.\d+$", info.FirmwareVersion);
    }

    [Fact]
    public void GetRandomReturnsExactlyTheBytesAskedForAcrossSeveralCommands()
    {
        using var transport = new RecordingTransport(fixture.Tpm.Connect());

        var bytes = new Tpm2Client(transport).GetRandom(100);

        Assert.Equal(100, bytes.Length);
        Assert.Equal(4, transport.Exchanges.Count);
        Assert.NotEqual(new byte[100], bytes);
    }

    [Fact]
    public void ATrialPolicySessionComputesThePolicyDigestWeSealWith()
    {
        using var transport = fixture.Tpm.Connect();
        var client = new Tpm2Client(transport);
        var pcrs = client.PcrRead(TpmAlg.Sha256, [0, 7, 16]);
        using var session = client.StartAuthSession(TpmSe.Trial, null, TpmaSession.None);
        try
        {
            client.PolicyPcr(session, new TpmsPcrSelection(TpmAlg.Sha256, [0, 7, 16]));

            Assert.Equal(TpmSealedVaultKey.PcrPolicyDigest(pcrs), client.PolicyGetDigest(session));
        }
        finally
        {
            client.FlushContext(session.Handle);
        }
    }

    [Fact]
    public void PcrReadOfMoreThanEightPcrsTakesSeveralCommands()
    {
        using var transport = fixture.Tpm.Connect();

        var values = new Tpm2Client(transport).PcrRead(TpmAlg.Sha256, [.. Enumerable.Range(0, 24)]);

        Assert.Equal(Enumerable.Range(0, 24), values.Keys);
        Assert.All(values.Values, value => Assert.Equal(32, value.Length));
    }

    [Fact]
    public void PcrExtendChangesThePcrAsTheSpecSays()
    {
        using var transport = fixture.Tpm.Connect();
        var client = new Tpm2Client(transport);
        var before = client.PcrRead(TpmAlg.Sha256, [15])[15];
        var digest = SHA256.HashData("measurement"u8);

        client.PcrExtend(15, TpmAlg.Sha256, digest);

        Assert.Equal(SHA256.HashData([.. before, .. digest]), client.PcrRead(TpmAlg.Sha256, [15])[15]);
    }
}
