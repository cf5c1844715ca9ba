using System.Net;
using Appliance.Audit;
using Appliance.Certificates.Selection;
using Appliance.Certificates.Store;
using Appliance.Network;
using Appliance.Tls;
using Appliance.Ui.Slices;
using Appliance.Edge;

namespace Appliance.Ui;

/// <summary>
/// Networking > IP Configuration: per address the assigned certificate and whether /appliance and the site answer
/// there (saved through the same rules as PUT network/addresses), and "Which certificate answers?", answered by the
/// selection snapshot the TLS handshake uses.
/// </summary>
internal static class NetworkingPages
{
    public const string Networking = UiEndpoints.Root + "/networking";
    private const string Title = "Networking :: IP Configuration";

    public static void Map(RouteGroupBuilder ui)
    {
        // GET: the settings, and with ?address=&serverName= the answer of "Which certificate answers?" (changes nothing).
        ui.MapGet("/networking", IResult (HttpContext context, PageFrame frame, AddressSettings settings, CertificateStore store, TlsCertificateSelector selector,
            string? address, string? serverName) =>
        {
            var (answer, error) = address is null ? (null, null) : Check(selector.Snapshot, address, serverName);
            var page = Model(context, frame, settings, store, selector, null, address, serverName ?? "", answer, error);
            return error is null ? NetworkingView.Create(page) : UiEndpoints.Render(NetworkingView.Create(page), 400);
        });

        // The settings form: one row per address (address, certificate; the checked boxes name their address).
        ui.MapPost("/networking", async Task<IResult> (HttpContext context, PageFrame frame, AddressSettings settings, CertificateStore store, TlsCertificateSelector selector) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            try
            {
                var addresses = form["address"];
                var certificates = form["certificate"];
                if (addresses.Count == 0 || addresses.Count != certificates.Count)
                    throw new RequestException(RequestFailure.Invalid, "The form is incomplete: reload the page and save again.");
                var appliance = form["appliance"].Select(a => AddressSettings.Canonical(a)).ToHashSet();
                var site = form["site"].Select(a => AddressSettings.Canonical(a)).ToHashSet();
                var current = settings.List().ToDictionary(a => a.Address);
                var changes = new List<AddressAssignment>();
                for (var i = 0; i < addresses.Count; i++)
                {
                    var ip = AddressSettings.Canonical(addresses[i]);
                    var certificate = certificates[i] is { Length: > 0 } id && id != "none" ? id : null;
                    var change = new AddressAssignment(ip, certificate, appliance.Contains(ip), site.Contains(ip));
                    // Only what differs is stored: untouched addresses keep following the defaults.
                    if (current.TryGetValue(ip, out var now) && now.CertificateId == change.CertificateId
                        && now.ApplianceAccess == change.ApplianceAccess && now.SiteAccess == change.SiteAccess) continue;
                    changes.Add(change);
                }
                if (changes.Count == 0)
                {
                    AuditTrail.NotAChange(context);
                    return frame.Redirect(context, Networking, Notice.Ok("Nothing was changed: the settings are as they were."));
                }
                settings.Save(context.Connection.LocalIpAddress, changes);
                AuditTrail.Done(context, CertificateAudit.Assigned(changes, store));
                return frame.Redirect(context, Networking, Notice.Ok(
                    $"The settings of {string.Join(", ", changes.Select(c => c.Address))} are saved; new connections use them at once.",
                    changes.Select(Describe).ToList()));
            }
            catch (Exception e) when (RefusalMap.Of(e) is { ShownInForm: true } refusal)
            {
                var page = Model(context, frame, settings, store, selector, new Notice("error", refusal.Detail, ["Nothing was changed."]), null, "", null, null);
                return UiEndpoints.Render(NetworkingView.Create(page), refusal);
            }
        }).Audited("Change the IP configuration");
    }

    private static string Describe(AddressAssignment a) =>
        $"{a.Address}: {(a.CertificateId is null ? "no certificate assigned" : $"certificate {a.CertificateId} assigned")}; " +
        $"/appliance {(a.ApplianceAccess ? "answers" : "does not answer (404)")}; the site {(a.SiteAccess ? "answers" : "does not answer")}.";

    private static NetworkingPage Model(HttpContext context, PageFrame frame, AddressSettings settings, CertificateStore store, TlsCertificateSelector selector,
        Notice? notice, string? checkAddress, string checkServerName, SelectionAnswer? answer, string? checkError)
    {
        var snapshot = selector.Snapshot;
        var rows = settings.List().Select(a =>
        {
            var served = snapshot.Select(null, IPAddress.Parse(a.Address));
            return new AddressSettingRow(a.Interface, a.Address, a.CertificateId, a.ApplianceAccess, a.SiteAccess,
                served?.Entry.Certificate.FriendlyName ?? "none", served is { } s ? RuleWords(s.Rule) : "nothing can answer");
        }).ToList();
        // Assignable: stored with a private key and not a certificate authority (as SetAssignments requires).
        var choices = store.ListCertificates()
            .Where(c => c.HasPrivateKey && !c.Facts.IsCertificateAuthority)
            .OrderBy(c => c.FriendlyName, StringComparer.OrdinalIgnoreCase)
            .Select(c => new CertificateChoice(c.Id, c.Facts.CommonName is { } cn && cn != c.FriendlyName ? $"{c.FriendlyName} ({cn})" : c.FriendlyName))
            .ToList();
        return new NetworkingPage(frame.Build(context, Title, "networking", "ip", notice), rows, choices, checkAddress, checkServerName, answer, checkError);
    }

    /// <summary>"Which certificate answers?" from <paramref name="snapshot"/>, the one the handshake uses.</summary>
    private static (SelectionAnswer? Answer, string? Error) Check(SelectionSnapshot snapshot, string address, string? serverName)
    {
        if (!IPAddress.TryParse(address, out var ip))
            return (null, $"'{address}' is not an IP address: pick an address from the list.");
        var name = string.IsNullOrWhiteSpace(serverName) ? null : serverName.Trim();
        if (name is not null && SelectionSnapshot.NormalizeName(name) is null)
            return (null, $"'{name}' is not a hostname: type a name such as support.example.com, or leave it empty for a client without SNI.");
        var selected = snapshot.Select(name, ip);
        if (selected is null)
            return (null, "No certificate can answer: the factory certificate is missing.");
        var (entry, rule) = selected.Value;
        var c = entry.Certificate;
        var canonical = SelectionSnapshot.Canonical(ip).ToString();
        return (new SelectionAnswer(canonical, name, c.Id, c.FriendlyName, c.Facts.Subject, c.Facts.SubjectAlternativeNames, c.Facts.NotAfter,
            RuleWords(rule), Explain(rule, name, canonical)), null);
    }

    /// <summary>The selection rule in the page's words.</summary>
    public static string RuleWords(SelectionRule rule) => rule switch
    {
        SelectionRule.Exact => "Exact name match",
        SelectionRule.Wildcard => "Wildcard match",
        SelectionRule.Address => "Assigned to this address",
        SelectionRule.Default => "Default certificate",
        _ => "Factory certificate",
    };

    private static string Parent(string name)
    {
        var normalized = SelectionSnapshot.NormalizeName(name) ?? name;
        return normalized[(normalized.IndexOf('.') + 1)..];
    }

    private static string Explain(SelectionRule rule, string? name, string address)
    {
        var noMatch = name is null ? "The client sends no hostname (no SNI)" : $"No certificate names '{name}'";
        return rule switch
        {
            SelectionRule.Exact => $"'{name}' is one of this certificate's names (subject alternative names).",
            SelectionRule.Wildcard => $"A wildcard name of this certificate (*.{Parent(name!)}) covers '{name}'.",
            SelectionRule.Address => $"{noMatch}, and this certificate is assigned to {address}.",
            SelectionRule.Default => $"{noMatch}, no certificate is assigned to {address}, and this is the default certificate.",
            _ => $"{noMatch}, no certificate is assigned to {address}, and no default certificate is set.",
        };
    }
}
