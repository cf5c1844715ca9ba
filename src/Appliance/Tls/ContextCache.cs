using System.Collections.Concurrent;

namespace Appliance.Tls;

/// <summary>
/// Certificate TLS contexts by context key: made once on first use (concurrent handshakes wait for the one creation)
/// and kept. A creation that gave nothing (the key could not be read from the store, libssl refused) is tried again,
/// but not before a pause of 1 s after the first failure, doubling up to 1 min, per key: a transient failure no longer
/// pins the certificate to the fallback until it changes, and one that keeps failing costs handshakes a lookup, not a creation.
/// </summary>
internal sealed class ContextCache<T>(TimeProvider time) where T : class
{
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxRetry = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Attempt> _attempts = new(StringComparer.Ordinal);

    /// <summary>The pause after <paramref name="failures"/> failures in a row: 1 s, 2 s, 4 s, ... at most 1 min.</summary>
    public static TimeSpan RetryDelay(int failures) =>
        failures >= 7 ? MaxRetry : FirstRetry * (1 << (failures - 1));

    /// <summary>
    /// The kept context; else the result of <paramref name="create"/> (null: failed) when no failure is recent.
    /// A context already made costs a lookup and no allocation (the handshake path).
    /// </summary>
    public T? Get<TArg>(string key, Func<TArg, T?> create, TArg arg)
    {
        var attempt = _attempts.GetOrAdd(key, static (_, state) => new Attempt(state.Cache, () => state.Create(state.Arg), 0), (Cache: this, Create: create, Arg: arg));
        var value = attempt.Value;
        if (value is not null || Now < attempt.RetryAt) return value;
        // One handshake replaces the failed attempt; one that loses the race uses the winner's.
        var retry = new Attempt(this, () => create(arg), attempt.Failures);
        if (_attempts.TryUpdate(key, retry, attempt)) return retry.Value;
        return _attempts.TryGetValue(key, out var current) ? current.Value : null;
    }

    public ICollection<string> Keys => _attempts.Keys;

    /// <summary>Forgets the key; hands back its context when one was made (the caller disposes it).</summary>
    public bool TryRemove(string key, out T? created)
    {
        created = _attempts.TryRemove(key, out var attempt) ? attempt.Created : null;
        return attempt is not null;
    }

    /// <summary>Every context made and still kept.</summary>
    public IEnumerable<T> Created => _attempts.Values.Select(a => a.Created).OfType<T>();

    /// <summary>One creation, run once by the first caller while concurrent callers wait for it (no Lazy: its T needs trimming annotations).</summary>
    private sealed class Attempt(ContextCache<T> cache, Func<T?> create, int failuresBefore)
    {
        private readonly Lock _lock = new();
        private volatile bool _done;
        private T? _value;

        public T? Value
        {
            get
            {
                if (_done) return _value;
                lock (_lock)
                {
                    if (_done) return _value;
                    _value = create();
                    if (_value is null)
                    {
                        Failures = failuresBefore + 1;
                        RetryAt = cache.Now + RetryDelay(Failures);
                    }
                    _done = true; // volatile write: publishes the value, the failures and the retry time
                    return _value;
                }
            }
        }

        public T? Created => _done ? _value : null;
        /// <summary>Failures in a row, this attempt's included; read after <see cref="Value"/>.</summary>
        public int Failures { get; private set; }
        public DateTimeOffset RetryAt { get; private set; }
    }

    private DateTimeOffset Now => time.GetUtcNow();
}
