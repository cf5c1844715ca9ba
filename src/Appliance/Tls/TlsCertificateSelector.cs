using System.Diagnostics;
using System.Net;
using Appliance.Certificates.Selection;
using Appliance.Certificates.Store;
using Appliance.Tls.OpenSsl;

namespace Appliance.Tls;

/// <summary>
/// Chooses the certificate for each TLS handshake from an immutable <see cref="SelectionSnapshot"/>, swapped
/// atomically after every store change (no restart, no dropped connection) and every few minutes (validity).
/// Certificate contexts (leaf + intermediates, key decrypted from the vault) are made on first use of a
/// certificate and kept across snapshots while the certificate is unchanged, so start-up costs nothing per
/// certificate and a name already seen never pays for it again.
/// </summary>
internal sealed partial class TlsCertificateSelector : IDisposable
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(10);
    private readonly CertificateStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<TlsCertificateSelector> _logger;
    private readonly ContextCache<ServingContext> _contexts;
    private readonly ITimer _refresh;
    private readonly Lock _rebuildLock = new();
    private volatile SelectionSnapshot _snapshot = SelectionSnapshot.Empty;
    private volatile IReadOnlyDictionary<string, StoredCertificate> _byId = new Dictionary<string, StoredCertificate>();

    public TlsCertificateSelector(CertificateStore store, TimeProvider time, ILogger<TlsCertificateSelector> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
        _contexts = new ContextCache<ServingContext>(time);
        store.Changed += Rebuild;
        Rebuild();
        _refresh = time.CreateTimer(_ => Rebuild(), null, RefreshInterval, RefreshInterval);
    }

    public SelectionSnapshot Snapshot => _snapshot;

    public void Rebuild()
    {
        lock (_rebuildLock)
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                var certificates = _store.ListCertificates();
                var loaded = Stopwatch.GetTimestamp();
                var snapshot = SelectionSnapshot.Build(certificates, _time.GetUtcNow());
                LogSnapshotBuilt(_logger, snapshot.Count, Stopwatch.GetElapsedTime(started, loaded).TotalMilliseconds,
                    Stopwatch.GetElapsedTime(loaded).TotalMilliseconds);
                _byId = certificates.ToDictionary(c => c.Id);
                _snapshot = snapshot;
                // Drop contexts of certificates that left the store or whose chain changed.
                var live = snapshot.Entries.Select(e => e.ContextKey).ToHashSet(StringComparer.Ordinal);
                // A connection that switched to a dropped context holds its own reference (SSL_set_SSL_CTX).
                foreach (var key in _contexts.Keys)
                    if (!live.Contains(key) && _contexts.TryRemove(key, out var dropped))
                        dropped?.Dispose();
            }
            catch (Exception e)
            {
                // Keep serving the previous snapshot; a broken rebuild must not take TLS down.
                LogRebuildFailed(_logger, e);
            }
        }
    }

    /// <summary>
    /// The native TLS context (leaf, intermediates and key) that answers this connection, by the snapshot's rules;
    /// when the chosen certificate cannot serve (its key is not open), the factory certificate's; null when
    /// nothing can serve (the handshake then fails). Contexts are made on first use and kept while the certificate
    /// is unchanged: the handshake of a name already seen costs a dictionary lookup. One that could not be made is
    /// tried again after a pause (<see cref="ContextCache{T}"/>).
    /// </summary>
    public ServingContext? ContextFor(string? serverName, IPAddress localAddress)
    {
        var snapshot = _snapshot;
        var selected = snapshot.Select(serverName, localAddress);
        var context = selected is null ? null : ContextOf(selected.Value.Entry);
        if (context is null && selected is not null && selected.Value.Rule != SelectionRule.Factory)
            context = snapshot.Factory is { } factory ? ContextOf(factory) : null;
        return context;
    }

    private ServingContext? ContextOf(SelectionEntry entry) =>
        _contexts.Get(entry.ContextKey, static state => state.Selector.CreateContext(state.Entry), (Selector: this, Entry: entry));

    private ServingContext? CreateContext(SelectionEntry entry)
    {
        try
        {
            using var identity = _store.OpenServingIdentity(entry.Certificate);
            if (identity is null) return null;
            var byId = _byId;
            var intermediates = entry.Certificate.Chain.Skip(1)
                .Select(id => byId.TryGetValue(id, out var c) ? c : null).OfType<StoredCertificate>()
                .Where(c => !c.Facts.IsSelfSigned).Select(c => c.Der.ToArray()).ToList();
            return ServingContext.Create(entry.Certificate.Id, identity.Certificate, identity.Pkcs8, intermediates, TlsTermination.StatusCallback);
        }
        catch (Exception e)
        {
            LogContextFailed(_logger, e, Hosting.LogText.Escape(entry.Certificate.Id));
            return null;
        }
    }

    public void Dispose()
    {
        _refresh.Dispose();
        foreach (var context in _contexts.Created) context.Dispose();
    }

    [LoggerMessage(EventId = EventIds.Tls.SnapshotBuilt, Level = LogLevel.Information,
        Message = "TLS selection snapshot: {Count} certificates; store read in {LoadMilliseconds:0.0} ms, snapshot built in {BuildMilliseconds:0.0} ms")]
    private static partial void LogSnapshotBuilt(ILogger logger, int count, double loadMilliseconds, double buildMilliseconds);

    [LoggerMessage(EventId = EventIds.Tls.SnapshotRebuildFailed, Level = LogLevel.Error, Message = "Rebuilding the TLS certificate snapshot failed; the previous one stays in use")]
    private static partial void LogRebuildFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = EventIds.Tls.ContextFailed, Level = LogLevel.Error, Message = "The TLS context of certificate {CertificateId} could not be made; the factory certificate answers instead until a retry (after 1 s, doubling to 1 min) succeeds")]
    private static partial void LogContextFailed(ILogger logger, Exception exception, string certificateId);
}
