using System.Net;
using Appliance.Certificates.Selection;
using Appliance.Certificates.Store;
using Appliance.Edge;
using Appliance.Platform;
using Appliance.Storage;

namespace Appliance.Network;

/// <summary>Per address: the certificate assigned there, and whether /appliance and the site answer there.</summary>
internal sealed record AddressAssignment(string Address, string? CertificateId, bool ApplianceAccess, bool SiteAccess);

/// <summary>An address with its settings: the NIC it is on now (null for a stored address the machine no longer has).</summary>
internal sealed record AddressSetting(string? Interface, string Address, string? CertificateId, bool ApplianceAccess, bool SiteAccess);

/// <summary>
/// The per-address settings the admin saves on the IP Configuration page and through PUT network/addresses: the
/// certificate (kept by the certificate store, which checks it can serve) and whether /appliance and the site answer
/// there (the host's own "network" table). Addresses without a setting use the defaults: no certificate, both on. API and
/// page list, refuse and save through this one class, so both use the same rules and words.
/// </summary>
internal sealed class AddressSettings
{
    public const string Module = "network";

    internal static readonly IReadOnlyList<string> Migrations =
    [
        // The flags lived in the store's address_assignments until this step: copied, so an existing database keeps them.
        """
        CREATE TABLE address_access (
            address TEXT PRIMARY KEY,
            appliance_access INTEGER NOT NULL DEFAULT 1,
            site_access INTEGER NOT NULL DEFAULT 1);
        INSERT INTO address_access (address, appliance_access, site_access)
            SELECT address, appliance_access, site_access FROM address_assignments;
        """,
    ];

    private readonly StateDatabase _database;
    private readonly CertificateStore _store;
    private readonly SystemFacts _facts;

    /// <summary>Takes the store made on <paramref name="database"/>: its tables exist before this module's first step copies from them.</summary>
    public AddressSettings(StateDatabase database, CertificateStore store, SystemFacts facts)
    {
        _database = database;
        _store = store;
        _facts = facts;
        _database.Migrate(Module, Migrations);
    }

    /// <summary>Raised after saved settings changed what answers where. Handlers must be fast and must not throw.</summary>
    public event Action? Changed;

    /// <summary>Every address with a stored setting, by address.</summary>
    public IReadOnlyList<AddressAssignment> Stored()
    {
        var certificates = _store.ListAssignments().ToDictionary(a => a.Address, a => a.CertificateId, StringComparer.Ordinal);
        var access = new Dictionary<string, (bool Appliance, bool Site)>(StringComparer.Ordinal);
        using (var connection = _database.Open())
        using (var command = Sql.Command(connection, null, "SELECT address, appliance_access, site_access FROM address_access"))
        using (var reader = command.ExecuteReader())
            while (reader.Read()) access[reader.GetString(0)] = (reader.GetInt64(1) != 0, reader.GetInt64(2) != 0);
        return certificates.Keys.Union(access.Keys).Order(StringComparer.Ordinal)
            .Select(address =>
            {
                var (appliance, site) = access.GetValueOrDefault(address, (true, true));
                return new AddressAssignment(address, certificates.GetValueOrDefault(address), appliance, site);
            }).ToList();
    }

    /// <summary>
    /// Replaces the settings of the given addresses (others stay). The certificates are saved first, so a refused one
    /// (no private key, a CA, not stored) changes nothing; then the flags, in one transaction.
    /// </summary>
    private void Set(IReadOnlyList<AddressAssignment> changes)
    {
        _store.SetAssignments(changes.Select(c => new CertificateAssignment(c.Address, c.CertificateId)).ToList());
        using (var connection = _database.Open())
        using (var transaction = connection.BeginTransaction(deferred: false))
        {
            foreach (var change in changes)
                Sql.Execute(connection, transaction, """
                    INSERT INTO address_access (address, appliance_access, site_access) VALUES ($a, $x, $s)
                    ON CONFLICT (address) DO UPDATE SET appliance_access = excluded.appliance_access, site_access = excluded.site_access
                    """, ("$a", SelectionSnapshot.Canonical(IPAddress.Parse(change.Address)).ToString()),
                    ("$x", change.ApplianceAccess ? 1 : 0), ("$s", change.SiteAccess ? 1 : 0));
            transaction.Commit();
        }
        Changed?.Invoke();
    }

    /// <summary>The machine's addresses (read from the OS now) with their settings, then stored settings of absent addresses.</summary>
    public List<AddressSetting> List()
    {
        var stored = Stored().ToDictionary(a => a.Address);
        var result = new List<AddressSetting>();
        foreach (var nic in _facts.Interfaces(includeLoopback: true))
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
        Set(changes);
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
