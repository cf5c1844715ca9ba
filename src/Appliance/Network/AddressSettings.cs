using System.Net;
using Appliance.Certificates.Selection;
using Appliance.Certificates.Store;
using Appliance.Edge;
using Appliance.Platform;

namespace Appliance.Network;

/// <summary>An address with its settings: the NIC it is on now (null for a stored address the machine no longer has).</summary>
internal sealed record AddressSetting(string? Interface, string Address, string? CertificateId, bool ApplianceAccess, bool SiteAccess);

/// <summary>
/// The per-address settings (certificate, /appliance, site) and their rules, for PUT network/addresses and the
/// IP Configuration page alike, so both list, refuse and save with the same words.
/// </summary>
internal sealed class AddressSettings(SystemFacts facts, CertificateStore store)
{
    /// <summary>The machine's addresses (read from the OS now) with their settings, then stored settings of absent addresses.</summary>
    public List<AddressSetting> List()
    {
        var stored = store.ListAssignments().ToDictionary(a => a.Address);
        var result = new List<AddressSetting>();
        foreach (var nic in facts.Interfaces(includeLoopback: true))
            foreach (var address in nic.Addresses)
            {
                var canonical = SelectionSnapshot.Canonical(IPAddress.Parse(address.Address)).ToString();
                stored.Remove(canonical, out var setting);
                // An address without stored settings follows the defaults: /appliance and the site answer there.
                result.Add(new AddressSetting(nic.Name, canonical, setting?.CertificateId, setting?.ApplianceAccess ?? true, setting?.SiteAccess ?? true));
            }
        result.AddRange(stored.Values.Select(s => new AddressSetting(null, s.Address, s.CertificateId, s.ApplianceAccess, s.SiteAccess)));
        return result;
    }

    /// <summary>Stores the changes, unless they would shut out the admin connected through <paramref name="adminAddress"/>.</summary>
    public void Save(IPAddress? adminAddress, IReadOnlyList<AddressAssignment> changes)
    {
        KeepTheAdminIn(adminAddress, changes);
        store.SetAssignments(changes);
    }

    /// <summary>
    /// Switching /appliance off on the address the admin is using is refused (409) unless another address keeps it on.
    /// </summary>
    public void KeepTheAdminIn(IPAddress? adminAddress, IReadOnlyList<AddressAssignment> changes)
    {
        if (adminAddress is null) return;
        var local = SelectionSnapshot.Canonical(adminAddress).ToString();
        var mine = changes.FirstOrDefault(c => c.Address == local);
        if (mine is null || mine.ApplianceAccess) return;
        var after = List().ToDictionary(a => a.Address, a => a.ApplianceAccess);
        foreach (var change in changes) after[change.Address] = change.ApplianceAccess;
        if (after.Any(a => a.Key != local && a.Value)) return;
        throw new RequestException(RequestFailure.Conflict,
            $"/appliance cannot be switched off on {local}: you are connected through it and no other address keeps it on. Turn it on for another address first.");
    }

    /// <summary>An address as stored: canonical form (IPv4-mapped as IPv4, no scope id), or a refusal in words.</summary>
    public static string Canonical(string? address) =>
        IPAddress.TryParse(address, out var ip) ? SelectionSnapshot.Canonical(ip).ToString()
            : throw new RequestException(RequestFailure.Invalid, $"'{address}' is not an IP address; give addresses such as 192.0.2.10 or 2001:db8::10.");
}
