using Appliance.Tpm.Marshalling;
using Appliance.Tpm.Sessions;

namespace Appliance.Tpm.Tests;

/// <summary>Responses the fuzzer (./build.sh fuzz tpm-response) made that escaped the parsers as bugs, not TpmFormatException.</summary>
public sealed class Tpm2ResponseFuzzRegressionTests
{
    [Theory]
    // TPM_ST_SESSIONS, 16 bytes, success, parameterSize 0xFFFFFFFF: the cast to int threw OverflowException.
    [InlineData("800200000010" + "00000000" + "FFFFFFFF" + "0000", 4294967295u)]
    // parameterSize 0x7FFFFFFF: Position + count overflowed inside the reader and slicing threw ArgumentOutOfRangeException.
    [InlineData("800200000010" + "00000000" + "7FFFFFFF" + "0000", 2147483647u)]
    public void RefusesAParameterSizeLargerThanTheResponse(string hex, uint size)
    {
        var error = Assert.Throws<TpmFormatException>(() => Tpm2Commands.ParseUnsealResponse(Convert.FromHexString(hex), PasswordAuthorization.Empty));

        Assert.Equal($"TPM2_Unseal response says its parameters take {size} bytes but only 2 follow.", error.Message);
    }

    [Fact]
    public void RefusesASizedFieldRunningPastTheEndWhateverItsLength()
    {
        var reader = new Tpm2Reader(Convert.FromHexString("0102"));
        reader.ReadByte();
        var caught = (Exception?)null;
        try
        {
            reader.ReadBytes(int.MaxValue);
        }
        catch (Exception e)
        {
            caught = e;
        }

        var error = Assert.IsType<TpmFormatException>(caught);
        Assert.Equal("TPM data ends after 2 bytes; 2147483647 more were expected at offset 1.", error.Message);
    }
}
