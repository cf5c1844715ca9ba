using System.Collections.Frozen;
using System.Net.Security;
using System.Security.Authentication;
using Appliance.Certificates.Store;

namespace Appliance.Tls;

/// <summary>
/// Chooses the certificate for each TLS handshake from an immutable snapshot of the store, swapped
/// atomically after every store change (no restart, no dropped connection). Order (DESIGN.md
/// "Certificate selection"): exact SAN match, then one-label wildcard, preferring currently valid and
/// then the latest notAfter; no SNI or no match: the default certificate; else the factory certificate.
/// </summary>
internal sealed partial class TlsCertificateSelector
{
    private readonly CertificateStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<TlsCertificateSelector> _logger;
    private volatile Snapshot _snapshot = Snapshot.Empty;

    public TlsCertificateSelector(CertificateStore store, TimeProvider time, ILogger<TlsCertificateSelector> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
        store.Changed += Rebuild;
        Rebuild();
    }

    public void Rebuild()
    {
        try
        {
            _snapshot = Snapshot.Build(_store, _time.GetUtcNow());
        }
        catch (Exception e)
        {
            // Keep serving the previous snapshot; a broken rebuild must not take TLS down.
            LogRebuildFailed(_logger, e);
        }
    }

    public SslServerAuthenticationOptions Options(string? serverName)
    {
        var context = _snapshot.Select(serverName).Context;
        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = context,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            // Only AEAD suites with forward secrecy (ECDHE), TLS 1.3 suites first.
            CipherSuitesPolicy = StrongSuites,
        };
    }

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

    internal sealed record Entry(string CertificateId, SslStreamCertificateContext Context, DateTimeOffset NotBefore, DateTimeOffset NotAfter);

    internal sealed class Snapshot
    {
        public static readonly Snapshot Empty = new(FrozenDictionary<string, Entry[]>.Empty, FrozenDictionary<string, Entry[]>.Empty, null, null, DateTimeOffset.MinValue);

        private readonly FrozenDictionary<string, Entry[]> _exact;
        private readonly FrozenDictionary<string, Entry[]> _wildcard;
        private readonly Entry? _default;
        private readonly Entry? _factory;
        private readonly DateTimeOffset _builtAt;

        private Snapshot(FrozenDictionary<string, Entry[]> exact, FrozenDictionary<string, Entry[]> wildcard, Entry? @default, Entry? factory, DateTimeOffset builtAt)
        {
            _exact = exact;
            _wildcard = wildcard;
            _default = @default;
            _factory = factory;
            _builtAt = builtAt;
        }

        public static Snapshot Build(CertificateStore store, DateTimeOffset now)
        {
            var all = store.ListCertificates();
            var exact = new Dictionary<string, List<Entry>>(StringComparer.Ordinal);
            var wildcard = new Dictionary<string, List<Entry>>(StringComparer.Ordinal);
            Entry? @default = null, factory = null;
            foreach (var certificate in all.Where(c => c.HasPrivateKey && !c.Facts.IsCertificateAuthority))
            {
                using var withKey = store.LoadWithPrivateKey(certificate);
                if (withKey is null) continue;
                var intermediates = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection(
                    certificate.Chain.Skip(1).Select(id => all.First(c => c.Id == id)).Where(c => !c.Facts.IsSelfSigned).Select(c => c.Certificate).ToArray());
                var entry = new Entry(certificate.Id, SslStreamCertificateContext.Create(withKey, intermediates, offline: true),
                    certificate.Facts.NotBefore, certificate.Facts.NotAfter);
                if (certificate.IsFactory) factory = entry;
                if (certificate.IsDefault) @default = entry;
                if (certificate.IsFactory) continue; // The factory certificate answers only as the last resort.
                foreach (var name in certificate.Facts.HostNames)
                {
                    var normalized = Normalize(name);
                    if (normalized.StartsWith("*.", StringComparison.Ordinal)) Add(wildcard, normalized[2..], entry);
                    else Add(exact, normalized, entry);
                }
            }
            return new Snapshot(Freeze(exact, now), Freeze(wildcard, now), @default, factory, now);
        }

        public Entry Select(string? serverName)
        {
            if (!string.IsNullOrEmpty(serverName))
            {
                var name = Normalize(serverName);
                if (_exact.TryGetValue(name, out var exact)) return exact[0];
                var dot = name.IndexOf('.');
                if (dot > 0 && _wildcard.TryGetValue(name[(dot + 1)..], out var wildcard)) return wildcard[0];
            }
            return _default ?? _factory ?? throw new InvalidOperationException("No certificate is available for TLS: the factory certificate is missing from the store.");
        }

        /// <summary>Names compare case-insensitively with any trailing dot removed, IDNs as A-labels (RFC 6066 3, RFC 5890).</summary>
        internal static string Normalize(string name)
        {
            name = name.TrimEnd('.').ToLowerInvariant();
            try
            {
                return name.Any(ch => ch > 0x7f) ? new System.Globalization.IdnMapping().GetAscii(name) : name;
            }
            catch (ArgumentException)
            {
                return name;
            }
        }

        private static void Add(Dictionary<string, List<Entry>> map, string name, Entry entry)
        {
            if (!map.TryGetValue(name, out var list)) map[name] = list = [];
            list.Add(entry);
        }

        // Among several: currently valid first, then the latest notAfter.
        private static FrozenDictionary<string, Entry[]> Freeze(Dictionary<string, List<Entry>> map, DateTimeOffset now) =>
            map.ToFrozenDictionary(p => p.Key, p => p.Value
                .OrderByDescending(e => e.NotBefore <= now && now <= e.NotAfter)
                .ThenByDescending(e => e.NotAfter)
                .ToArray(), StringComparer.Ordinal);
    }
}
