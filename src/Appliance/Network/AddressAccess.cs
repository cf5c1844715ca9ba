using System.Collections.Frozen;
using System.Net;
using Appliance.Certificates.Selection;

namespace Appliance.Network;

/// <summary>
/// Whether /appliance and the site answer on a local address, from a snapshot of the stored settings swapped on
/// every change of them. Addresses without a setting answer both (a new NIC is reachable at once).
/// </summary>
internal sealed class AddressAccess
{
    private readonly AddressSettings _settings;
    private volatile FrozenDictionary<IPAddress, AddressAssignment> _assignments = FrozenDictionary<IPAddress, AddressAssignment>.Empty;

    public AddressAccess(AddressSettings settings)
    {
        _settings = settings;
        settings.Changed += Rebuild;
        Rebuild();
    }

    private void Rebuild() =>
        _assignments = _settings.Stored()
            .Where(a => IPAddress.TryParse(a.Address, out _))
            .ToFrozenDictionary(a => SelectionSnapshot.Canonical(IPAddress.Parse(a.Address)));

    public bool ApplianceAllowed(IPAddress local) =>
        !_assignments.TryGetValue(SelectionSnapshot.Canonical(local), out var a) || a.ApplianceAccess;

    public bool SiteAllowed(IPAddress local) =>
        !_assignments.TryGetValue(SelectionSnapshot.Canonical(local), out var a) || a.SiteAccess;
}
