using Appliance.Audit;

namespace Appliance.Tests.Audit;

public sealed class AuditBudgetTests
{
    private static readonly AuditBudget Budget = new(MaxRows: 5, MaxBytes: 1_000);

    [Theory]
    [InlineData(5, 1_000, false)]
    [InlineData(6, 10, true)]
    [InlineData(1, 1_001, true)]
    public void IsExceededByRowsOrBytes(long rows, long bytes, bool exceeded) => Assert.Equal(exceeded, Budget.IsExceeded(rows, bytes));

    [Fact]
    public void DropsTheOldestRowsBeyondTheRowLimit() => Assert.Equal(2, Budget.RowsToDrop(7, 70, [10, 10, 10, 10, 10, 10, 10]));

    [Fact]
    public void DropsAsManyOldRowsAsTheBytesRequire() => Assert.Equal(3, Budget.RowsToDrop(4, 1_300, [100, 50, 200, 900]));

    [Fact]
    public void DropsNothingWithinTheBudget() => Assert.Equal(0, Budget.RowsToDrop(5, 1_000, [100, 100, 100, 100, 600]));

    [Fact]
    public void DropsAllItWasShownWhenThatIsNotEnoughYet() => Assert.Equal(2, Budget.RowsToDrop(10, 100, [10, 10]));

    [Fact]
    public void AnonymousTrafficHasItsOwnSmallerBudget()
    {
        Assert.True(AuditBudget.Anonymous.MaxRows < AuditBudget.Admins.MaxRows);
        Assert.True(AuditBudget.Anonymous.MaxBytes < AuditBudget.Admins.MaxBytes);
    }

    [Fact]
    public void SizeIsTheUtf8BytesOfTheStoredText() => Assert.Equal(3 + 2 + 0 + 4, AuditBudget.SizeOf("abc", "ü", null, "😀"));
}
