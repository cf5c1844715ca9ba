using System.Net;

namespace Appliance.Acme.Caa;

/// <summary>The outcome of a CAA pre-check: allowed, refused (with the reason), or not checked (with a note saying why).</summary>
public sealed record CaaCheckResult(CaaCheckOutcome Outcome, string? Message)
{
    public static readonly CaaCheckResult Allowed = new(CaaCheckOutcome.Allowed, null);
}

public enum CaaCheckOutcome { Allowed, Refused, NotChecked }

/// <summary>
/// The CAA pre-check before an order: finds the relevant CAA RRset of the name with <see cref="IDnsClient"/> (RFC 8659
/// section 3) and decides with <see cref="CaaPolicy"/> whether the CA's identities (the directory's <c>meta.caaIdentities</c>)
/// may issue. A CA checks CAA itself when it validates; this check only tells the admin early and in words, so a lookup
/// failure is a note, not a refusal.
/// </summary>
public sealed class CaaCheck(IDnsClient dns)
{
    /// <summary>CNAME hops followed per name before giving up (aliases chained deeper than this are an error in the zone).</summary>
    public const int MaxAliases = 8;

    public async Task<CaaCheckResult> CheckAsync(string name, IReadOnlyList<string>? caIdentities, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(name, out _)) return CaaCheckResult.Allowed; // CAA governs DNS names only (RFC 8738 section 7)
        if (caIdentities is null || caIdentities.Count == 0)
            return new CaaCheckResult(CaaCheckOutcome.NotChecked,
                $"The CAA records of {name} were not checked: the ACME server's directory names no CAA identities (meta.caaIdentities). The CA checks them itself when it validates the name.");
        CaaRecordSet set;
        try
        {
            set = await RelevantSetAsync(name, cancellationToken);
        }
        catch (DnsLookupException e)
        {
            return new CaaCheckResult(CaaCheckOutcome.NotChecked, $"The CAA records of {name} could not be read: {e.Message} The CA checks them itself when it validates the name.");
        }
        var verdict = CaaPolicy.Decide(name, set, caIdentities.ToList());
        return verdict.Allowed ? CaaCheckResult.Allowed : new CaaCheckResult(CaaCheckOutcome.Refused, verdict.Refusal);
    }

    /// <summary>
    /// RelevantCAASet (RFC 8659 section 3): the first non-empty CAA RRset of the name and then each parent, up to but not
    /// including the root. A wildcard "*.X" starts at X. Aliases are chased (RFC 1034 section 5.4): a recursive resolver
    /// answers with the CNAME chain and the target's records; when it returns the chain only, the target is asked.
    /// </summary>
    public async Task<CaaRecordSet> RelevantSetAsync(string name, CancellationToken cancellationToken)
    {
        var domain = name.Trim().TrimEnd('.').ToLowerInvariant();
        if (domain.StartsWith("*.", StringComparison.Ordinal)) domain = domain[2..];
        while (domain.Length > 0)
        {
            var records = await CaaOfAsync(domain, cancellationToken);
            if (records.Count > 0) return new CaaRecordSet(domain, records);
            var dot = domain.IndexOf('.');
            domain = dot < 0 ? "" : domain[(dot + 1)..];
        }
        return CaaRecordSet.Empty;
    }

    /// <summary>CAA(domain): the CAA records at the end of the domain's alias chain; empty for NXDOMAIN or no records.</summary>
    private async Task<IReadOnlyList<CaaRecord>> CaaOfAsync(string domain, CancellationToken cancellationToken)
    {
        var owner = domain;
        for (var hop = 0; hop <= MaxAliases; hop++)
        {
            var response = await dns.QueryAsync(owner, DnsType.Caa, cancellationToken);
            if (response.ResponseCode == DnsResponse.NameError) return [];
            if (response.ResponseCode != DnsResponse.NoError)
                throw new DnsLookupException($"The DNS server answered the CAA question for {owner} with {RcodeName(response.ResponseCode)}.");
            // Follow the CNAME chain inside the answer from the asked name to its end.
            var end = owner;
            for (var i = 0; i <= MaxAliases && response.Answers.FirstOrDefault(r => r.Type == DnsType.Cname && r.Name == end) is { Target: { } target }; i++)
                end = target;
            var caa = response.Answers.Where(r => r.Type == DnsType.Caa && r.Name == end).Select(r => ParseRecord(r, end)).ToList();
            if (caa.Count > 0 || end == owner) return caa;
            owner = end; // the resolver gave the alias only: ask its target
        }
        throw new DnsLookupException($"The CAA question for {domain} led through more than {MaxAliases} aliases (CNAME); check the zone for an alias loop.");
    }

    private static CaaRecord ParseRecord(DnsRecord record, string owner)
    {
        try
        {
            return CaaRecord.Parse(record.Data);
        }
        catch (DnsFormatException e)
        {
            throw new DnsLookupException($"A CAA record of {owner} is malformed: {e.Message}", e);
        }
    }

    private static string RcodeName(int rcode) => rcode switch
    {
        1 => "FORMERR",
        2 => "SERVFAIL",
        4 => "NOTIMP",
        5 => "REFUSED",
        _ => $"response code {rcode}",
    };
}
