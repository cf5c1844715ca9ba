using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates.Selection;
using Appliance.Certificates.Store;

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
    private readonly ConcurrentDictionary<string, Lazy<SslStreamCertificateContext?>> _contexts = new(StringComparer.Ordinal);
    private readonly ITimer _refresh;
    private readonly Lock _rebuildLock = new();
    private volatile SelectionSnapshot _snapshot = SelectionSnapshot.Empty;
    private volatile IReadOnlyDictionary<string, StoredCertificate> _byId = new Dictionary<string, StoredCertificate>();

    public TlsCertificateSelector(CertificateStore store, TimeProvider time, ILogger<TlsCertificateSelector> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
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
                var certificates = _store.ListCertificates();
                var snapshot = SelectionSnapshot.Build(certificates, _time.GetUtcNow());
                _byId = certificates.ToDictionary(c => c.Id);
                _snapshot = snapshot;
                // Drop contexts of certificates that left the store or whose chain changed.
                var live = snapshot.Entries.Select(e => e.ContextKey).ToHashSet(StringComparer.Ordinal);
                foreach (var key in _contexts.Keys)
                    if (!live.Contains(key)) _contexts.TryRemove(key, out _);
            }
            catch (Exception e)
            {
                // Keep serving the previous snapshot; a broken rebuild must not take TLS down.
                LogRebuildFailed(_logger, e);
            }
        }
    }

    /// <summary>The handshake options for this connection; throws when nothing can serve (the handshake then fails).</summary>
    public SslServerAuthenticationOptions Options(string? serverName, IPAddress localAddress)
    {
        var snapshot = _snapshot;
        var selected = snapshot.Select(serverName, localAddress);
        var context = selected is null ? null : ContextOf(selected.Value.Entry);
        if (context is null && selected is not null && selected.Value.Rule != SelectionRule.Factory)
        {
            // The chosen certificate's key cannot be opened (vault unavailable): fall back to the factory certificate.
            context = snapshot.Factory is { } factory ? ContextOf(factory) : null;
        }
        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = context ?? throw new AuthenticationException("No certificate can serve this connection: the factory certificate is unavailable."),
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CipherSuitesPolicy = StrongSuites,
            ApplicationProtocols = [SslApplicationProtocol.Http11],
        };
    }

    private SslStreamCertificateContext? ContextOf(SelectionEntry entry) =>
        _contexts.GetOrAdd(entry.ContextKey, static (_, e) => new Lazy<SslStreamCertificateContext?>(() => e.Selector.CreateContext(e.Entry)), (Selector: this, Entry: entry)).Value;

    private SslStreamCertificateContext? CreateContext(SelectionEntry entry)
    {
        try
        {
            // Not disposed: the context keeps using the certificate while it is cached.
            var withKey = _store.LoadWithPrivateKey(entry.Certificate);
            if (withKey is null) return null;
            var byId = _byId;
            var intermediates = new X509Certificate2Collection(entry.Certificate.Chain.Skip(1)
                .Select(id => byId.TryGetValue(id, out var c) ? c : null).OfType<StoredCertificate>()
                .Where(c => !c.Facts.IsSelfSigned).Select(c => c.Certificate).ToArray());
            return SslStreamCertificateContext.Create(withKey, intermediates, offline: true);
        }
        catch (Exception e)
        {
            LogContextFailed(_logger, e, entry.Certificate.Id);
            return null;
        }
    }

    public void Dispose() => _refresh.Dispose();

    /// <summary>TLS 1.3 suites and, for TLS 1.2, only ECDHE with AEAD (forward secrecy, no CBC, no RSA key exchange).</summary>
    private static readonly CipherSuitesPolicy StrongSuites = new(
    [
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "Rebuilding the TLS certificate snapshot failed; the previous one stays in use")]
    private static partial void LogRebuildFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "The TLS context of certificate {CertificateId} could not be made; the factory certificate answers instead")]
    private static partial void LogContextFailed(ILogger logger, Exception exception, string certificateId);
}
