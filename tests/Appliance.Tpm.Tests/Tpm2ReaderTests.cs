using Appliance.Tpm.Marshalling;

namespace Appliance.Tpm.Tests;

public sealed class Tpm2ReaderTests
{
    [Fact]
    public void IntegersAreReadBigEndian()
    {
        var reader = new Tpm2Reader(Convert.FromHexString("01020304050607"));

        Assert.Equal(0x01, reader.ReadByte());
        Assert.Equal(0x0203, reader.ReadUInt16());
        Assert.Equal(0x04050607u, reader.ReadUInt32());
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void ASizedBufferCanBeReadWithOrWithoutItsPrefix()
    {
        var bytes = Convert.FromHexString("0002AABB0001CC");
        var reader = new Tpm2Reader(bytes);

        Assert.Equal("AABB", Convert.ToHexString(reader.ReadSized()));
        Assert.Equal("0001CC", Convert.ToHexString(reader.ReadSizedWithPrefix()));
    }

    [Fact]
    public void ASizeBeyondTheDataIsAFormatErrorWithTheOffset()
    {
        var error = Assert.Throws<TpmFormatException>(() =>
        {
            var reader = new Tpm2Reader(Convert.FromHexString("0005AABB"));
            reader.ReadSized();
        });

        Assert.Equal("TPM data ends after 4 bytes; 5 more were expected at offset 2.", error.Message);
    }

    [Fact]
    public void TrailingBytesAreReportedWhenTheEndIsExpected()
    {
        var error = Assert.Throws<TpmFormatException>(() =>
        {
            var reader = new Tpm2Reader(Convert.FromHexString("0001"));
            reader.ReadByte();
            reader.ExpectEnd("TPM2_Test response");
        });

        Assert.Equal("TPM2_Test response: 1 unexpected trailing bytes.", error.Message);
    }
}
