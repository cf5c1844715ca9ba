using System.Collections.Concurrent;
using System.Globalization;

namespace Appliance.Tls.Ocsp;

/// <summary>
/// The OCSP responses the handshakes staple, per certificate id. Written only by <see cref="OcspStaplingService"/>;
/// read by the TLS status callback, which must be fast and never block: one dictionary read, no I/O, no lock.
/// </summary>
internal sealed class OcspStapling(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, OcspState> _states = new(StringComparer.Ordinal);

    /// <summary>The DER response to staple for this certificate, or null when there is none still valid now.</summary>
    public byte[]? StapleFor(string certificateId)
    {
        if (!_states.TryGetValue(certificateId, out var state) || state.Staple is not { } staple) return null;
        return staple.NextUpdate is { } next && next <= time.GetUtcNow() ? null : staple.Der;
    }

    /// <summary>
    /// The stapling state in words for the certificate's API answer: null when the certificate names no OCSP responder
    /// (or cannot be stapled: no key, issuer not in the store).
    /// </summary>
    public string? Describe(string certificateId)
    {
        if (!_states.TryGetValue(certificateId, out var state)) return null;
        var now = time.GetUtcNow();
        var stapled = state.Staple is { } staple && (staple.NextUpdate is not { } next || next > now) ? staple : null;
        var until = stapled?.NextUpdate is { } end ? "stapled until " + end.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "stapled";
        if (stapled is not null)
            return state.LastError is null ? until : $"{until}; the last refresh failed: {state.LastError}";
        if (state.LastError is not null) return "not stapled: " + state.LastError;
        return "not stapled yet: asking " + state.Responder;
    }

    public OcspState? StateOf(string certificateId) => _states.TryGetValue(certificateId, out var state) ? state : null;

    public void Set(string certificateId, OcspState state) => _states[certificateId] = state;

    /// <summary>Forgets certificates that left the store or can no longer be stapled.</summary>
    public void RetainOnly(IReadOnlySet<string> certificateIds)
    {
        foreach (var id in _states.Keys)
            if (!certificateIds.Contains(id)) _states.TryRemove(id, out _);
    }
}
