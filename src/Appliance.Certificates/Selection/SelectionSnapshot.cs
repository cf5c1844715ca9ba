using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using Appliance.Certificates.Store;

namespace Appliance.Certificates.Selection;

/// <summary>Which rule chose the certificate (DESIGN.md "Certificate selection").</summary>
public enum SelectionRule { Exact, Wildcard, Address, Default, Factory }

/// <summary>A certificate that can serve TLS, with the addresses it is assigned to.</summary>
public sealed class SelectionEntry(StoredCertificate certificate, FrozenSet<IPAddress> boundAddresses)
{
    public StoredCertificate Certificate { get; } = certificate;
    public FrozenSet<IPAddress> BoundAddresses { get; } = boundAddresses;

    /// <summary>Stable across snapshots while the certificate and its chain are unchanged: the host's TLS context cache key.</summary>
    public string ContextKey { get; } = certificate.Id + "|" + string.Join(',', certificate.Chain);
}

/// <summary>
/// The immutable selection data built from the store; rebuilt on every change and swapped atomically by the host.
/// Lookup is O(1) in the number of certificates: one dictionary probe for the exact name, one for the wildcard
/// (the name minus its first label), one for the address.
/// </summary>
public sealed class SelectionSnapshot
{
    private readonly FrozenDictionary<string, SelectionEntry[]> _exact;
    private readonly FrozenDictionary<string, SelectionEntry[]> _wildcard;
    private readonly FrozenDictionary<IPAddress, SelectionEntry> _byAddress;
    private readonly SelectionEntry? _default;
    private readonly SelectionEntry? _factory;

    private SelectionSnapshot(FrozenDictionary<string, SelectionEntry[]> exact, FrozenDictionary<string, SelectionEntry[]> wildcard,
        FrozenDictionary<IPAddress, SelectionEntry> byAddress, SelectionEntry? @default, SelectionEntry? factory, DateTimeOffset builtAt, int count)
    {
        _exact = exact;
        _wildcard = wildcard;
        _byAddress = byAddress;
        _default = @default;
        _factory = factory;
        BuiltAt = builtAt;
        Count = count;
    }

    public static readonly SelectionSnapshot Empty = Build([], DateTimeOffset.MinValue);

    /// <summary>The factory certificate: the last resort, and the stand-in when a chosen certificate cannot serve.</summary>
    public SelectionEntry? Factory => _factory;

    /// <summary>When it was built: "currently valid" is judged at this time (the host rebuilds periodically).</summary>
    public DateTimeOffset BuiltAt { get; }

    /// <summary>Certificates that can serve TLS.</summary>
    public int Count { get; }

    /// <summary>Every entry, for the host's context cache.</summary>
    public IEnumerable<SelectionEntry> Entries =>
        _exact.Values.SelectMany(e => e).Concat(_wildcard.Values.SelectMany(e => e)).Concat(_byAddress.Values)
            .Append(_default).Append(_factory).OfType<SelectionEntry>().Distinct();

    /// <summary>Only certificates with a private key, not certificate authorities, can serve TLS.</summary>
    public static SelectionSnapshot Build(IReadOnlyList<StoredCertificate> certificates, DateTimeOffset now)
    {
        var exact = new Dictionary<string, List<SelectionEntry>>(StringComparer.Ordinal);
        var wildcard = new Dictionary<string, List<SelectionEntry>>(StringComparer.Ordinal);
        var byAddress = new Dictionary<IPAddress, SelectionEntry>();
        SelectionEntry? @default = null, factory = null;
        var count = 0;
        foreach (var certificate in certificates)
        {
            if (!certificate.HasPrivateKey || certificate.Facts.IsCertificateAuthority) continue;
            var bound = certificate.BoundAddresses.Select(a => IPAddress.TryParse(a, out var ip) ? Canonical(ip) : null).OfType<IPAddress>().ToFrozenSet();
            var entry = new SelectionEntry(certificate, bound);
            count++;
            if (certificate.IsFactory)
            {
                factory = entry; // The factory certificate answers only as the last resort, never by name.
                continue;
            }
            if (certificate.IsDefault) @default = entry;
            foreach (var address in bound) byAddress[address] = entry;
            foreach (var name in certificate.Facts.HostNames)
            {
                var normalized = NormalizeName(name);
                if (normalized is null) continue;
                if (normalized.StartsWith("*.", StringComparison.Ordinal)) Add(wildcard, normalized[2..], entry);
                else Add(exact, normalized, entry);
            }
        }
        return new SelectionSnapshot(Order(exact, now), Order(wildcard, now), byAddress.ToFrozenDictionary(), @default, factory, now, count);
    }

    /// <summary>
    /// The certificate for a handshake: exact SAN match, then one-label wildcard (among several: bound to this address,
    /// then valid now, then latest notAfter); no SNI or no match: the address's certificate, the default, the factory.
    /// </summary>
    public (SelectionEntry Entry, SelectionRule Rule)? Select(string? serverName, IPAddress localAddress)
    {
        localAddress = Canonical(localAddress);
        var name = serverName is null ? null : NormalizeName(serverName);
        if (name is not null)
        {
            if (_exact.TryGetValue(name, out var exact)) return (Prefer(exact, localAddress), SelectionRule.Exact);
            var dot = name.IndexOf('.');
            // RFC 6125 6.4.3: the wildcard stands for exactly one whole left-most label.
            if (dot > 0 && _wildcard.TryGetValue(name[(dot + 1)..], out var wildcard)) return (Prefer(wildcard, localAddress), SelectionRule.Wildcard);
        }
        if (_byAddress.TryGetValue(localAddress, out var assigned)) return (assigned, SelectionRule.Address);
        if (_default is not null) return (_default, SelectionRule.Default);
        if (_factory is not null) return (_factory, SelectionRule.Factory);
        return null;
    }

    private static SelectionEntry Prefer(SelectionEntry[] candidates, IPAddress localAddress)
    {
        if (candidates.Length == 1) return candidates[0];
        // Candidates are already ordered by (valid now, latest notAfter); the first one bound here wins.
        foreach (var candidate in candidates)
            if (candidate.BoundAddresses.Contains(localAddress)) return candidate;
        return candidates[0];
    }

    /// <summary>
    /// Names compare case-insensitively with one trailing dot ignored, IDNs in their A-label form (RFC 5890);
    /// null for a name that cannot be a host name.
    /// </summary>
    public static string? NormalizeName(string name)
    {
        name = name.Trim();
        if (name.EndsWith('.')) name = name[..^1];
        if (name.Length is 0 or > 253) return null;
        name = name.ToLowerInvariant();
        if (name.All(char.IsAscii)) return name;
        try
        {
            return new IdnMapping().GetAscii(name);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>IPv4-mapped IPv6 addresses (a dual-stack socket's view of IPv4 clients) compare as IPv4; scope ids dropped.</summary>
    public static IPAddress Canonical(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && address.ScopeId != 0) return new IPAddress(address.GetAddressBytes());
        return address;
    }

    private static void Add(Dictionary<string, List<SelectionEntry>> map, string name, SelectionEntry entry)
    {
        if (!map.TryGetValue(name, out var list)) map[name] = list = [];
        if (!list.Contains(entry)) list.Add(entry);
    }

    private static FrozenDictionary<string, SelectionEntry[]> Order(Dictionary<string, List<SelectionEntry>> map, DateTimeOffset now) =>
        map.ToFrozenDictionary(p => p.Key, p => p.Value
            .OrderByDescending(e => e.Certificate.Facts.NotBefore <= now && now <= e.Certificate.Facts.NotAfter)
            .ThenByDescending(e => e.Certificate.Facts.NotAfter)
            .ThenBy(e => e.Certificate.Id, StringComparer.Ordinal)
            .ToArray(), StringComparer.Ordinal);

    public static string RuleName(SelectionRule rule) => rule switch
    {
        SelectionRule.Exact => "exact",
        SelectionRule.Wildcard => "wildcard",
        SelectionRule.Address => "address",
        SelectionRule.Default => "default",
        _ => "factory",
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Count} certificates, built {BuiltAt:O}");
}
