namespace Appliance.Accounts;

/// <summary>
/// Sessions the state partition had no room for (disk full): a login still works, its session lives in this process
/// only (it ends when the service restarts), and a sign-out whose row could not be deleted is remembered here so the
/// session stays ended. Keyed by the session secret's SHA-256, like the table; at most <see cref="MaxSessions"/> each.
/// </summary>
internal sealed class UnsavedSessions
{
    public const int MaxSessions = 1_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long UserId, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt)> _open = [];
    private readonly HashSet<string> _ended = [];

    public void Open(string hash, long userId, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_open.Count >= MaxSessions) _open.Remove(_open.MinBy(s => s.Value.LastSeenAt).Key);
            _open[hash] = (userId, now, now);
        }
    }

    /// <summary>The user of a live in-memory session, sliding its idle timeout; null when unknown or expired (then forgotten).</summary>
    public long? Find(string hash, DateTimeOffset now, TimeSpan idle, TimeSpan absolute)
    {
        lock (_lock)
        {
            if (!_open.TryGetValue(hash, out var session)) return null;
            if (now - session.LastSeenAt > idle || now - session.CreatedAt > absolute)
            {
                _open.Remove(hash);
                return null;
            }
            _open[hash] = session with { LastSeenAt = now };
            return session.UserId;
        }
    }

    /// <summary>Ends a session: forgets it here, and when <paramref name="rowKept"/> (its row could not be deleted) refuses it from now on.</summary>
    public void End(string hash, bool rowKept)
    {
        lock (_lock)
        {
            _open.Remove(hash);
            if (rowKept && _ended.Count < MaxSessions) _ended.Add(hash);
        }
    }

    public bool IsEnded(string hash)
    {
        lock (_lock) return _ended.Contains(hash);
    }

    /// <summary>Ends every in-memory session of a user (password reset, removal), or all but one (own password change).</summary>
    public void EndAll(long userId, string? exceptHash = null)
    {
        lock (_lock)
            foreach (var hash in _open.Where(s => s.Value.UserId == userId && s.Key != exceptHash).Select(s => s.Key).ToList()) _open.Remove(hash);
    }
}
