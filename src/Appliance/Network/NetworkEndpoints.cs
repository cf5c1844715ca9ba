using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Api;
using Appliance.Audit;
using Appliance.Certificates.Selection;
using Appliance.Certificates.Store;
using Appliance.Platform;
using Appliance.Tls;

namespace Appliance.Network;

/// <summary>An address's settings; in a PUT, applianceAccess and siteAccess are required (a missing one would switch it off).</summary>
internal sealed record AddressDto(string? Interface, string Address, string? CertificateId,
    [property: JsonRequired] bool ApplianceAccess, [property: JsonRequired] bool SiteAccess);

internal sealed record SelectionDto(string CertificateId, string FriendlyName, string Subject, IReadOnlyList<string> SubjectAlternativeNames,
    DateTimeOffset NotAfter, string Rule, string? ServerName, string Address);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(List<AddressDto>))]
[JsonSerializable(typeof(SelectionDto))]
internal sealed partial class NetworkJson : JsonSerializerContext;

/// <summary>API routes network/addresses and network/selection ("Which certificate answers?").</summary>
internal static class NetworkEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/network/addresses", (SystemFacts facts, AddressSettings settings) =>
            Results.Json(ListAddresses(facts, settings), NetworkJson.Default.ListAddressDto))
            .Produces<List<AddressDto>>().WithSummary("The NICs' addresses, each with its certificate and whether /appliance and the site answer there");

        api.MapPut("/network/addresses", async (HttpContext context, SystemFacts facts, AddressSettings settings, CertificateStore store) =>
        {
            var body = await ApiEndpoints.ReadJson(context, NetworkJson.Default.ListAddressDto);
            var changes = body.Select(a => new AddressAssignment(CanonicalAddress(a.Address),
                string.IsNullOrEmpty(a.CertificateId) ? null : a.CertificateId, a.ApplianceAccess, a.SiteAccess)).ToList();
            KeepTheAdminIn(context, facts, settings, changes);
            settings.Set(changes);
            AuditTrail.Done(context, CertificateAudit.Assigned(changes, store));
            return Results.Json(ListAddresses(facts, settings), NetworkJson.Default.ListAddressDto);
        }).Accepts<List<AddressDto>>("application/json").Produces<List<AddressDto>>()
            .WithSummary("Assign certificates to addresses and switch /appliance and the site per address").Audited("Change the IP configuration");

        api.MapGet("/network/selection", (string? address, string? serverName, TlsCertificateSelector selector) =>
        {
            if (string.IsNullOrEmpty(address) || !IPAddress.TryParse(address, out var ip))
                return ApiEndpoints.Problem(400, "Give the address the client connects to, e.g. ?address=192.0.2.10&serverName=support.example.com.");
            var selected = selector.Snapshot.Select(string.IsNullOrWhiteSpace(serverName) ? null : serverName, ip);
            if (selected is null) return ApiEndpoints.Problem(404, "No certificate can answer: the factory certificate is missing.");
            var c = selected.Value.Entry.Certificate;
            return Results.Json(new SelectionDto(c.Id, c.FriendlyName, c.Facts.Subject, c.Facts.SubjectAlternativeNames, c.Facts.NotAfter,
                SelectionSnapshot.RuleName(selected.Value.Rule), serverName, SelectionSnapshot.Canonical(ip).ToString()), NetworkJson.Default.SelectionDto);
        }).Produces<SelectionDto>().WithSummary("Which certificate answers a connection to address with serverName, and the rule that chose it").Refuses(404);
    }

    /// <summary>The machine's addresses (read from the OS now) with their settings, then stored settings of absent addresses.</summary>
    internal static List<AddressDto> ListAddresses(SystemFacts facts, AddressSettings settings)
    {
        var stored = settings.List().ToDictionary(a => a.Address);
        var result = new List<AddressDto>();
        foreach (var nic in facts.Interfaces(includeLoopback: true))
            foreach (var address in nic.Addresses)
            {
                var canonical = SelectionSnapshot.Canonical(IPAddress.Parse(address.Address)).ToString();
                stored.Remove(canonical, out var setting);
                result.Add(new AddressDto(nic.Name, canonical, setting?.CertificateId, setting?.ApplianceAccess ?? true, setting?.SiteAccess ?? true));
            }
        result.AddRange(stored.Values.Select(s => new AddressDto(null, s.Address, s.CertificateId, s.ApplianceAccess, s.SiteAccess)));
        return result;
    }

    /// <summary>
    /// Switching /appliance off on the address the admin is using is refused (409) unless another address keeps it
    /// on. Used by this API and the IP Configuration page, so both refuse with the same words.
    /// </summary>
    internal static void KeepTheAdminIn(HttpContext context, SystemFacts facts, AddressSettings settings, IReadOnlyList<AddressAssignment> changes)
    {
        if (context.Connection.LocalIpAddress is not { } localIp) return;
        var local = SelectionSnapshot.Canonical(localIp).ToString();
        var mine = changes.FirstOrDefault(c => c.Address == local);
        if (mine is null || mine.ApplianceAccess) return;
        var after = ListAddresses(facts, settings).ToDictionary(a => a.Address, a => a.ApplianceAccess);
        foreach (var change in changes) after[change.Address] = change.ApplianceAccess;
        if (after.Any(a => a.Key != local && a.Value)) return;
        throw new ApiException(409, $"/appliance cannot be switched off on {local}: you are connected through it and no other address keeps it on. Turn it on for another address first.");
    }

    /// <summary>An address as stored: canonical form (IPv4-mapped as IPv4, no scope id), or a 400 in words.</summary>
    internal static string CanonicalAddress(string? address) =>
        IPAddress.TryParse(address, out var ip) ? SelectionSnapshot.Canonical(ip).ToString()
            : throw new ApiException(400, $"'{address}' is not an IP address; give addresses such as 192.0.2.10 or 2001:db8::10.");
}
