using Appliance.Tls;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Tests.Tls;

/// <summary>The TLS context cache: contexts made once and kept; a failed creation retried after a pause that doubles to a minute.</summary>
public sealed class ContextCacheTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private sealed class Context;

    /// <summary>A creation that fails (null) until <see cref="Succeed"/>, counting its calls and their times.</summary>
    private sealed class Creation(FakeTimeProvider time)
    {
        private Context? _result;
        public List<DateTimeOffset> Calls { get; } = [];
        public void Succeed() => _result = new Context();
        public static Context? Run(Creation creation)
        {
            lock (creation.Calls) creation.Calls.Add(creation.Time.GetUtcNow());
            return creation._result;
        }
        public FakeTimeProvider Time { get; } = time;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(6, 32)]
    [InlineData(7, 60)]
    [InlineData(1000, 60)]
    public void ThePauseAfterFailuresInARowDoublesFromOneSecondToAMinute(int failures, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), ContextCache<Context>.RetryDelay(failures));

    [Fact]
    public void AFailedCreationIsTriedAgainAfterOneSecondAndNotBefore()
    {
        var time = new FakeTimeProvider(Start);
        var cache = new ContextCache<Context>(time);
        var creation = new Creation(time);

        Assert.Null(cache.Get("a", Creation.Run, creation));
        time.Advance(TimeSpan.FromMilliseconds(999));
        creation.Succeed(); // the cause went away, but the pause is not over
        Assert.Null(cache.Get("a", Creation.Run, creation));
        Assert.Single(creation.Calls);

        time.Advance(TimeSpan.FromMilliseconds(1));
        var made = cache.Get("a", Creation.Run, creation);
        Assert.NotNull(made);
        Assert.Same(made, cache.Get("a", Creation.Run, creation));
        Assert.Equal([Start, Start.AddSeconds(1)], creation.Calls);
    }

    [Fact]
    public void ACreationThatKeepsFailingIsTriedAtPausesDoublingToAMinuteNotOnEveryHandshake()
    {
        var time = new FakeTimeProvider(Start);
        var cache = new ContextCache<Context>(time);
        var creation = new Creation(time);
        for (var second = 0; second <= 250; second++)
        {
            for (var handshake = 0; handshake < 10; handshake++) Assert.Null(cache.Get("a", Creation.Run, creation));
            time.Advance(TimeSpan.FromSeconds(1));
        }
        var gaps = creation.Calls.Zip(creation.Calls.Skip(1), (a, b) => (int)(b - a).TotalSeconds);
        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60, 60], gaps); // calls at 0, 1, 3, 7, 15, 31, 63, 123, 183, 243 s
    }

    [Fact]
    public async Task ConcurrentHandshakesMakeAContextOnceAndShareIt()
    {
        var time = new FakeTimeProvider(Start);
        var cache = new ContextCache<Context>(time);
        var creation = new Creation(time);
        creation.Succeed();
        var contexts = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => cache.Get("a", Creation.Run, creation))));
        Assert.Single(creation.Calls);
        Assert.All(contexts, c => Assert.Same(contexts[0], c));
        Assert.Same(contexts[0], Assert.Single(cache.Created));
    }

    [Fact]
    public void ARemovedKeyForgetsItsFailuresAndHandsBackItsContext()
    {
        var time = new FakeTimeProvider(Start);
        var cache = new ContextCache<Context>(time);
        var failing = new Creation(time);
        Assert.Null(cache.Get("a", Creation.Run, failing));
        Assert.True(cache.TryRemove("a", out var none));
        Assert.Null(none);

        var working = new Creation(time);
        working.Succeed();
        var made = cache.Get("a", Creation.Run, working); // at once: the failure went with the key
        Assert.NotNull(made);
        Assert.True(cache.TryRemove("a", out var removed));
        Assert.Same(made, removed);
        Assert.Empty(cache.Keys);
    }
}
