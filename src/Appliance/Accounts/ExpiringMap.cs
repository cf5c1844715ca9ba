using System.Diagnostics.CodeAnalysis;

namespace Appliance.Accounts;

/// <summary>
/// A map that forgets, for keys chosen by strangers (client addresses, usernames): an entry not touched for
/// <c>lifetime</c> expires, and beyond <c>capacity</c> entries the least recently touched one is dropped, so no
/// flood grows memory without bound. Every operation is O(1) amortised. Not thread-safe: the owner locks.
/// </summary>
internal sealed class ExpiringMap<TKey, TValue>(int capacity, TimeSpan lifetime, TimeProvider time) where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<Entry>> _index = [];
    // Most recently touched first, so the expired and the evicted are always at the end.
    private readonly LinkedList<Entry> _order = new();

    public int Count
    {
        get
        {
            Expire(time.GetUtcNow());
            return _index.Count;
        }
    }

    /// <summary>The value of a live entry, without touching it (reading does not extend its life).</summary>
    public bool TryGet(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        Expire(time.GetUtcNow());
        if (_index.TryGetValue(key, out var node))
        {
            value = node.Value.Value;
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>The entry's value, made by <paramref name="create"/> when absent; either way the entry is touched.</summary>
    public TValue GetOrAdd(TKey key, Func<TValue> create)
    {
        var now = time.GetUtcNow();
        Expire(now);
        if (_index.TryGetValue(key, out var node))
        {
            _order.Remove(node);
            node.Value.TouchedAt = now;
            _order.AddFirst(node);
            return node.Value.Value;
        }
        node = _order.AddFirst(new Entry(key, create(), now));
        _index[key] = node;
        while (_index.Count > capacity) Drop(_order.Last!);
        return node.Value.Value;
    }

    public void Remove(TKey key)
    {
        if (_index.TryGetValue(key, out var node)) Drop(node);
    }

    private void Expire(DateTimeOffset now)
    {
        while (_order.Last is { } last && now - last.Value.TouchedAt >= lifetime) Drop(last);
    }

    private void Drop(LinkedListNode<Entry> node)
    {
        _order.Remove(node);
        _index.Remove(node.Value.Key);
    }

    private sealed class Entry(TKey key, TValue value, DateTimeOffset touchedAt)
    {
        public TKey Key { get; } = key;
        public TValue Value { get; } = value;
        public DateTimeOffset TouchedAt { get; set; } = touchedAt;
    }
}
