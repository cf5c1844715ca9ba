using Appliance.Tpm.Marshalling;
using Appliance.Tpm.Tests.Infrastructure;
using Appliance.Tpm.Transports;

namespace Appliance.Tpm.Tests;

[Collection("swtpm")]
public sealed class SwtpmTcpTransportTests(SwtpmFixture fixture)
{
    [Theory]
    [InlineData("swtpm:127.0.0.1:2321", "127.0.0.1", 2321)]
    [InlineData("swtpm:localhost:40000", "localhost", 40000)]
    [InlineData("swtpm:[::1]:2321", "::1", 2321)]
    public void AnAddressGivesHostAndDataPort(string address, string host, int port) =>
        Assert.Equal((host, port), SwtpmTcpTransport.ParseAddress(address));

    [Theory]
    [InlineData("swtpm:127.0.0.1")]
    [InlineData("swtpm:127.0.0.1:65535")]
    [InlineData("swtpm::2321")]
    public void AnAddressWithoutHostOrUsablePortSaysTheForm(string address) =>
        Assert.Equal(
            $"'{address}' needs a host and a data port from 1 to 65534 (the control port is the next one): swtpm:HOST:PORT.",
            Assert.Throws<FormatException>(() => SwtpmTcpTransport.ParseAddress(address)).Message);

    [Fact]
    public void ADevicePathIsNotASwtpmAddress() =>
        Assert.Equal(
            "'/dev/tpmrm0' is not a swtpm address; use swtpm:HOST:PORT, for example swtpm:127.0.0.1:2321.",
            Assert.Throws<FormatException>(() => SwtpmTcpTransport.ParseAddress("/dev/tpmrm0")).Message);

    [Fact]
    public void AFreshSimulatorIsPoweredOnThroughTheControlPortAndStarted()
    {
        using var fresh = new SwtpmInstance();
        using var transport = new SwtpmTcpTransport("127.0.0.1", fresh.Port, TimeSpan.FromSeconds(10));

        transport.PowerOnAndStartup();

        // Started: a second Startup is refused with TPM_RC_INITIALIZE.
        Assert.False(new Tpm2Client(transport).Startup(TpmSu.Clear));
    }

    [Fact]
    public void ARawFrameGetsARawResponse()
    {
        using var transport = fixture.Tpm.Connect();

        var response = transport.Transmit(Tpm2Commands.BuildGetRandom(4));

        Assert.Equal(16, response.Length);
        Assert.Equal("800100000010000000000004", Convert.ToHexString(response.AsSpan(0, 12)));
    }

    [Fact]
    public void NoSimulatorListeningGivesTheCommandToStartOne()
    {
        using var transport = new SwtpmTcpTransport("127.0.0.1", 1, TimeSpan.FromSeconds(2));

        var error = Assert.Throws<IOException>(() => transport.Transmit(Tpm2Commands.BuildGetRandom(4)));

        Assert.StartsWith("Cannot connect to swtpm at 127.0.0.1:1: ", error.Message);
        Assert.EndsWith("Start it with: swtpm socket --tpm2 --tpmstate dir=DIR --server type=tcp,port=1 --ctrl type=tcp,port=2", error.Message);
    }
}
