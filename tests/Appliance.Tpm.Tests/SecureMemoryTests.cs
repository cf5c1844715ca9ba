namespace Appliance.Tpm.Tests;

public sealed class SecureMemoryTests
{
    [Fact]
    public void AProcessMadeNonDumpableSaysSoInProc()
    {
        // The test process itself: nothing else in it needs to be dumpable.
        SecureMemory.MakeProcessNonDumpable();

        Assert.False(SecureMemory.IsProcessDumpable);
    }
}
