using Appliance.Tpm.Transports;

namespace Appliance.Tpm.Tests;

public sealed class TpmDeviceTransportTests
{
    [Fact]
    public void AMissingDeviceSaysHowToRunWithoutOne()
    {
        var error = Assert.Throws<IOException>(() => new TpmDeviceTransport("/dev/tpmrm-missing", TimeSpan.FromSeconds(1)));

        Assert.Equal("TPM device /dev/tpmrm-missing does not exist: this machine has no TPM 2.0 enabled (check firmware settings); pass --tpm swtpm:HOST:PORT or --key-protection software.", error.Message);
    }

    [Fact]
    public void ADeviceThatAnswersNothingIsAnErrorNotAnEmptyResponse()
    {
        // /dev/null takes the command and reads back end-of-file.
        using var transport = new TpmDeviceTransport("/dev/null", TimeSpan.FromSeconds(1));

        var error = Assert.Throws<IOException>(() => transport.Transmit(new byte[12]));

        Assert.StartsWith("TPM device /dev/null returned 0 bytes", error.Message);
    }
}
