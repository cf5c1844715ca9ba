using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Api;
using Appliance.Audit;
using Appliance.Certificates.Selection;
using Appliance.Certificates.Store;
using Appliance.Tls;
using Appliance.Edge;

namespace Appliance.Network;

/// <summary>An address's settings; in a PUT, applianceAccess and siteAccess are required (a missing one would switch it off).</summary>
internal sealed record AddressDto(string? Interface, string Address, string? CertificateId,
    [property: JsonRequired] bool ApplianceAccess, [property: JsonRequired] bool SiteAccess)
{
    public static AddressDto From(AddressSetting a) => new(a.Interface, a.Address, a.CertificateId, a.ApplianceAccess, a.SiteAccess);

    public static List<AddressDto> From(IEnumerable<AddressSetting> settings) => settings.Select(From).ToList();
}

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
        api.MapGet("/network/addresses", (AddressSettings settings) =>
            Results.Json(AddressDto.From(settings.List()), NetworkJson.Default.ListAddressDto))
            .Produces<List<AddressDto>>().WithSummary("The NICs' addresses, each with its certificate and whether /appliance and the site answer there");

        api.MapPut("/network/addresses", async (HttpContext context, AddressSettings settings, CertificateStore store) =>
        {
            var body = await ApiEndpoints.ReadJson(context, NetworkJson.Default.ListAddressDto);
            var changes = body.Select(a => new AddressAssignment(AddressSettings.Canonical(a.Address),
                string.IsNullOrEmpty(a.CertificateId) ? null : a.CertificateId, a.ApplianceAccess, a.SiteAccess)).ToList();
            settings.Save(context.Connection.LocalIpAddress, changes);
            AuditTrail.Done(context, CertificateAudit.Assigned(changes, store));
            return Results.Json(AddressDto.From(settings.List()), NetworkJson.Default.ListAddressDto);
        }).Accepts<List<AddressDto>>("application/json").Produces<List<AddressDto>>()
            .WithSummary("Assign certificates to addresses and switch /appliance and the site per address").Audited("Change the IP configuration");

        api.MapGet("/network/selection", (string? address, string? serverName, TlsCertificateSelector selector) =>
        {
            if (string.IsNullOrEmpty(address) || !IPAddress.TryParse(address, out var ip))
                return Problem.Of(400, "Give the address the client connects to, e.g. ?address=192.0.2.10&serverName=support.example.com.");
            var selected = selector.Snapshot.Select(string.IsNullOrWhiteSpace(serverName) ? null : serverName, ip);
            if (selected is null) return Problem.Of(404, "No certificate can answer: the factory certificate is missing.");
            var c = selected.Value.Entry.Certificate;
            return Results.Json(new SelectionDto(c.Id, c.FriendlyName, c.Facts.Subject, c.Facts.SubjectAlternativeNames, c.Facts.NotAfter,
                SelectionSnapshot.RuleName(selected.Value.Rule), serverName, SelectionSnapshot.Canonical(ip).ToString()), NetworkJson.Default.SelectionDto);
        }).Produces<SelectionDto>().WithSummary("Which certificate answers a connection to address with serverName, and the rule that chose it").Refuses(404);
    }
}
