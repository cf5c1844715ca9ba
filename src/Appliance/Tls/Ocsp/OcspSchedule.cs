namespace Appliance.Tls.Ocsp;

/// <summary>When to ask a responder again: a pure decision over the state and the time.</summary>
internal static class OcspSchedule
{
    /// <summary>Never sooner than this after a successful fetch, whatever the response's window (a responder may hand out old responses).</summary>
    internal static readonly TimeSpan MinimumInterval = TimeSpan.FromMinutes(5);
    /// <summary>A response without nextUpdate (RFC 6960 2.4: newer information is always available) is fetched again hourly.</summary>
    internal static readonly TimeSpan WithoutNextUpdate = TimeSpan.FromHours(1);
    internal static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan LongestRetry = TimeSpan.FromHours(1);

    /// <summary>
    /// At once when never asked; after a failure, 30 s doubling up to an hour; after a success, when half of the
    /// response's validity (thisUpdate to nextUpdate) has passed, as RFC 5019 6.1 suggests for caches.
    /// </summary>
    public static DateTimeOffset NextFetch(OcspState state, DateTimeOffset now)
    {
        if (state.LastAttempt is not { } last) return now;
        if (state.Failures > 0) return last + Backoff(state.Failures);
        if (state.Staple is not { } staple) return now;
        var refresh = staple.NextUpdate is { } next ? staple.ThisUpdate + (next - staple.ThisUpdate) / 2 : last + WithoutNextUpdate;
        var earliest = last + MinimumInterval;
        return refresh > earliest ? refresh : earliest;
    }

    public static TimeSpan Backoff(int failures)
    {
        var delay = FirstRetry * Math.Pow(2, Math.Min(failures - 1, 16));
        return delay > LongestRetry ? LongestRetry : delay;
    }
}
