using Appliance.Tpm.Marshalling;

namespace Appliance.Tpm.Tests;

public sealed class Tpm2WriterTests
{
    [Fact]
    public void IntegersAreWrittenBigEndian()
    {
        var buffer = new byte[7];
        var writer = new Tpm2Writer(buffer);

        writer.WriteByte(0x01);
        writer.WriteUInt16(0x0203);
        writer.WriteUInt32(0x04050607);

        Assert.Equal("01020304050607", Convert.ToHexString(writer.Written));
    }

    [Fact]
    public void ASizedBufferIsPrefixedWithItsLength()
    {
        var buffer = new byte[8];
        var writer = new Tpm2Writer(buffer);

        writer.WriteSized([0xAA, 0xBB, 0xCC]);

        Assert.Equal("0003AABBCC", Convert.ToHexString(writer.Written));
    }

    [Fact]
    public void ANestedStructureGetsItsSizePatchedIn()
    {
        var buffer = new byte[8];
        var writer = new Tpm2Writer(buffer);

        var start = writer.BeginSized16();
        writer.WriteUInt32(0xDEADBEEF);
        writer.EndSized16(start);

        Assert.Equal("0004DEADBEEF", Convert.ToHexString(writer.Written));
    }

    [Fact]
    public void WritingPastTheBufferThrowsInsteadOfTruncating()
    {
        var buffer = new byte[3];

        var error = Assert.Throws<InvalidOperationException>(() =>
        {
            var writer = new Tpm2Writer(buffer);
            writer.WriteUInt32(1);
        });

        Assert.Equal("TPM command buffer of 3 bytes is too small for 4 bytes.", error.Message);
    }
}
