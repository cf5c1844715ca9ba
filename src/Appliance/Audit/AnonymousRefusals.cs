namespace Appliance.Audit;

/// <summary>What an anonymous refusal looked like (the first one of its source and minute is kept as the example).</summary>
internal sealed record RefusalSample(string? Username, string Method, string Path, int Status, string Outcome, string Action, string? Detail);

/// <summary>The refusals of one source address in one minute: how many, the first and last time, and the first request.</summary>
internal sealed record RefusalCount(string Address, DateTimeOffset Minute, DateTimeOffset FirstAt, DateTimeOffset LastAt, long Count, RefusalSample Sample);

/// <summary>
/// Counts refused anonymous requests in memory per source address and minute until the audit log stores them (one
/// row per source and minute, <see cref="AuditLog"/>), so a flood costs a dictionary update per request instead of
/// a synchronous disk write and a journal line. At most <see cref="LinesPerMinute"/> refusals a minute are logged one
/// by one; the rest are summed up in one line a minute (<see cref="TakeUnlogged"/>).
/// </summary>
internal sealed class AnonymousRefusals
{
    /// <summary>More pending sources than this and the audit log writes them at once (bounds the memory a flood from many addresses takes).</summary>
    public const int MaxPendingSources = 2_000;
    public const int LinesPerMinute = 10;

    private readonly Lock _lock = new();
    private Dictionary<(string Address, DateTimeOffset Minute), RefusalCount> _pending = [];
    private DateTimeOffset _lineMinute;
    private int _lines;
    private long _unlogged;
    private readonly HashSet<string> _unloggedSources = [];

    public int PendingSources
    {
        get { lock (_lock) return _pending.Count; }
    }

    /// <summary>Counts one refusal at <paramref name="at"/>; true when it may be logged by itself (within this minute's allowance).</summary>
    public bool Add(string address, DateTimeOffset at, RefusalSample sample)
    {
        var minute = MinuteOf(at);
        lock (_lock)
        {
            var key = (address, minute);
            _pending[key] = _pending.TryGetValue(key, out var count)
                ? count with { Count = count.Count + 1, LastAt = at > count.LastAt ? at : count.LastAt }
                : new RefusalCount(address, minute, at, at, 1, sample);
            if (minute != _lineMinute)
            {
                if (minute < _lineMinute) return false; // a late request of a past minute: counted, not logged
                _lineMinute = minute;
                _lines = 0;
            }
            if (_lines < LinesPerMinute)
            {
                _lines++;
                return true;
            }
            _unlogged++;
            if (_unloggedSources.Count < MaxPendingSources) _unloggedSources.Add(address);
            return false;
        }
    }

    /// <summary>Every pending count, removed; give them back with <see cref="Restore"/> when they could not be stored.</summary>
    public IReadOnlyList<RefusalCount> Drain()
    {
        lock (_lock)
        {
            if (_pending.Count == 0) return [];
            var drained = _pending.Values.ToList();
            _pending = [];
            return drained;
        }
    }

    /// <summary>Puts counts that could not be stored back, merged with those counted since.</summary>
    public void Restore(IReadOnlyList<RefusalCount> counts)
    {
        lock (_lock)
        {
            foreach (var count in counts)
            {
                var key = (count.Address, count.Minute);
                _pending[key] = _pending.TryGetValue(key, out var newer)
                    ? count with { Count = count.Count + newer.Count, LastAt = newer.LastAt > count.LastAt ? newer.LastAt : count.LastAt }
                    : count;
            }
        }
    }

    /// <summary>How many refusals (from how many sources) were not logged one by one since the last call; null while none.</summary>
    public (long Refusals, int Sources)? TakeUnlogged()
    {
        lock (_lock)
        {
            if (_unlogged == 0) return null;
            var taken = (_unlogged, _unloggedSources.Count);
            _unlogged = 0;
            _unloggedSources.Clear();
            return taken;
        }
    }

    public static DateTimeOffset MinuteOf(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, TimeSpan.Zero);
    }
}
