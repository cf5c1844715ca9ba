using System.Threading.Channels;

namespace Appliance.Testing;

/// <summary>
/// A clock that passes everything to <paramref name="inner"/> (a FakeTimeProvider) and reports each timer the code
/// under test arms, with its due time. A test waits for the timer it expects before it advances the fake clock:
/// the real signal that the code is waiting, where a sleep would only make that likely.
/// </summary>
public sealed class TimerWatch(TimeProvider inner) : TimeProvider
{
    private readonly Channel<TimeSpan> _armed = Channel.CreateUnbounded<TimeSpan>();

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = inner.CreateTimer(callback, state, dueTime, period);
        _armed.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Waits (at most 10 s of real time) until a timer due after <paramref name="dueTime"/> is armed; timers with other due times armed meanwhile are passed over.</summary>
    public async Task ArmedAsync(TimeSpan dueTime)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var seen = new List<TimeSpan>();
        try
        {
            while (true)
            {
                var armed = await _armed.Reader.ReadAsync(timeout.Token);
                if (armed == dueTime) return;
                seen.Add(armed);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No timer due after {dueTime} was armed within 10 s; timers armed meanwhile: [{string.Join(", ", seen)}].");
        }
    }
}
