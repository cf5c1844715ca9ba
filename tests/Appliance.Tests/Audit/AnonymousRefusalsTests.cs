using Appliance.Audit;

namespace Appliance.Tests.Audit;

public sealed class AnonymousRefusalsTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);
    private static RefusalSample Sample(string path) => new(null, "POST", path, 401, "refused", "Import certificates", "Log in first");

    [Fact]
    public void CountsOneRowPerSourceAndMinuteKeepingTheFirstRequestAsTheExample()
    {
        var refusals = new AnonymousRefusals();
        for (var i = 0; i < 100; i++) refusals.Add("192.0.2.1", Start.AddSeconds(i * 0.5), Sample("/appliance/p" + i));
        refusals.Add("192.0.2.2", Start.AddSeconds(10), Sample("/appliance/x"));

        var counts = refusals.Drain().OrderBy(c => c.Address).ThenBy(c => c.Minute).ToList();

        Assert.Equal(
            [("192.0.2.1", Start, 100L), ("192.0.2.2", Start, 1L)],
            counts.Select(c => (c.Address, c.Minute, c.Count)));
        Assert.Equal("/appliance/p0", counts[0].Sample.Path);
        Assert.Equal(Start.AddSeconds(49.5), counts[0].LastAt);
        Assert.Empty(refusals.Drain());
    }

    [Fact]
    public void ANewMinuteStartsANewRow()
    {
        var refusals = new AnonymousRefusals();
        refusals.Add("192.0.2.1", Start.AddSeconds(59), Sample("/a"));
        refusals.Add("192.0.2.1", Start.AddSeconds(61), Sample("/b"));
        Assert.Equal([Start, Start.AddMinutes(1)], refusals.Drain().Select(c => c.Minute).Order());
    }

    [Fact]
    public void LogsOnlyTheFirstRefusalsOfAMinuteAndSumsUpTheRest()
    {
        var refusals = new AnonymousRefusals();
        var logged = Enumerable.Range(0, 1_000).Count(i => refusals.Add("192.0.2." + (i % 7), Start.AddMilliseconds(i), Sample("/a")));
        Assert.Equal(AnonymousRefusals.LinesPerMinute, logged);
        Assert.Equal((990L, 7), refusals.TakeUnlogged());
        Assert.Null(refusals.TakeUnlogged());
        Assert.True(refusals.Add("192.0.2.1", Start.AddMinutes(1), Sample("/a"))); // a new minute, a new allowance
    }

    [Fact]
    public void CountsThatCouldNotBeStoredAreMergedWithThoseCountedSince()
    {
        var refusals = new AnonymousRefusals();
        refusals.Add("192.0.2.1", Start, Sample("/first"));
        var failed = refusals.Drain();
        refusals.Add("192.0.2.1", Start.AddSeconds(5), Sample("/later"));
        refusals.Restore(failed);
        var merged = Assert.Single(refusals.Drain());
        Assert.Equal(2, merged.Count);
        Assert.Equal("/first", merged.Sample.Path);
        Assert.Equal(Start.AddSeconds(5), merged.LastAt);
    }
}
