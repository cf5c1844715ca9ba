namespace Appliance.Tpm.Tests;

public sealed class SecureBufferTests
{
    [Fact]
    public void ABufferIsLockedExcludedFromDumpsAndHoldsItsBytes()
    {
        using var buffer = SecureBuffer.CopyOf([1, 2, 3]);

        Assert.Equal([1, 2, 3], buffer.Span.ToArray());
        Assert.True(buffer.IsLocked, "mlock failed: raise RLIMIT_MEMLOCK (ulimit -l) for the test process");
        Assert.True(buffer.IsExcludedFromDumps);
    }

    [Fact]
    public void ADisposedBufferCannotBeReadAnymore()
    {
        var buffer = new SecureBuffer(32);
        buffer.Span.Fill(0xAA);

        buffer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => buffer.Span.Length);
    }
}
