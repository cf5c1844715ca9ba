using System.Text;

namespace Appliance.Acme.Caa;

/// <summary>One CAA resource record (RFC 8659 section 4.1): flags, property tag and value.</summary>
public sealed record CaaRecord(byte Flags, string Tag, string Value)
{
    /// <summary>The Issuer Critical flag, bit 0 (the high bit of the flags octet).</summary>
    public bool Critical => (Flags & 0x80) != 0;

    /// <summary>Parses CAA RDATA: flags (1 octet), tag length (1 octet), tag, value (the rest).</summary>
    public static CaaRecord Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2 || data[1] == 0 || 2 + data[1] > data.Length)
            throw new DnsFormatException($"A CAA record of {data.Length} bytes is malformed: its tag length does not fit.");
        return new CaaRecord(data[0], Encoding.ASCII.GetString(data.Slice(2, data[1])), Encoding.UTF8.GetString(data[(2 + data[1])..]));
    }

    public override string ToString() => $"{Flags} {Tag} \"{Value}\"";
}

/// <summary>The relevant CAA RRset of a name (RFC 8659 section 3): the records and the domain where they were found; empty when none.</summary>
public sealed record CaaRecordSet(string? FoundAt, IReadOnlyList<CaaRecord> Records)
{
    public static readonly CaaRecordSet Empty = new(null, []);
}

/// <summary>Whether the CAA records let a CA issue for a name, with the reason in words when they do not.</summary>
public sealed record CaaVerdict(bool Allowed, string? Refusal)
{
    public static readonly CaaVerdict Permitted = new(true, null);
}

/// <summary>
/// The CAA decision of RFC 8659 as a pure function: whether a CA known by its issuer domain names (RFC 8555 section 9.7.7
/// <c>meta.caaIdentities</c>) may issue for a name, given the relevant RRset.
/// </summary>
public static class CaaPolicy
{
    /// <summary>The property tags this decision understands (RFC 8659 section 4.2-4.4; contactemail/contactphone from the CA/B Forum).</summary>
    private static readonly HashSet<string> KnownTags = new(StringComparer.OrdinalIgnoreCase) { "issue", "issuewild", "iodef", "contactemail", "contactphone" };

    /// <summary>
    /// Section 4: an empty set allows any CA; an unknown tag marked critical forbids issuance; for a wildcard name the
    /// issuewild properties apply when there are any (section 4.3), else issue; no such property allows any CA; otherwise
    /// one of them must name one of <paramref name="caIdentities"/> (section 4.2: an empty issuer name, ";", names none).
    /// </summary>
    public static CaaVerdict Decide(string name, CaaRecordSet set, IReadOnlyCollection<string> caIdentities)
    {
        if (set.Records.Count == 0) return CaaVerdict.Permitted;
        var at = set.FoundAt == name.TrimStart('*', '.') ? $"{set.FoundAt}" : $"{set.FoundAt} (inherited by {name})";
        if (set.Records.FirstOrDefault(r => r.Critical && !KnownTags.Contains(r.Tag)) is { } critical)
            return new CaaVerdict(false, $"The CAA records of {at} hold the critical property '{critical.Tag}', which no CA may ignore (RFC 8659 section 4.1): "
                + "CAs that do not know it refuse to issue. Remove that record or clear its critical flag.");

        var wildcard = name.StartsWith("*.", StringComparison.Ordinal);
        var tag = wildcard && set.Records.Any(r => Is(r, "issuewild")) ? "issuewild" : "issue";
        var properties = set.Records.Where(r => Is(r, tag)).ToList();
        if (properties.Count == 0) return CaaVerdict.Permitted;
        if (properties.Any(p => IssuerDomain(p.Value) is { Length: > 0 } issuer && caIdentities.Contains(issuer, StringComparer.OrdinalIgnoreCase)))
            return CaaVerdict.Permitted;

        var allowed = properties.Select(p => IssuerDomain(p.Value)).Where(i => i is { Length: > 0 }).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var who = allowed.Count == 0 ? "no CA at all" : "only " + string.Join(", ", allowed);
        var identity = caIdentities.First();
        return new CaaVerdict(false, $"The CAA records of {at} allow {who} to issue{(wildcard ? " wildcard" : "")} certificates, not this ACME server "
            + $"({string.Join(", ", caIdentities)}). Add the DNS record {set.FoundAt}. CAA 0 {tag} \"{identity}\", or request the certificate from a CA the records allow.");
    }

    private static bool Is(CaaRecord record, string tag) => string.Equals(record.Tag, tag, StringComparison.OrdinalIgnoreCase);

    /// <summary>The issuer domain name of an issue/issuewild value (section 4.2: before the first ';', spaces trimmed); empty for ";".</summary>
    internal static string IssuerDomain(string value) => value.Split(';', 2)[0].Trim().TrimEnd('.');
}
