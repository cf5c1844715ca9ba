using System.Net;
using Appliance.Certificates.Selection;
using Appliance.Certificates.Store;
using Appliance.Storage;

namespace Appliance.Network;

/// <summary>Per address: the certificate assigned there, and whether /appliance and the site answer there.</summary>
internal sealed record AddressAssignment(string Address, string? CertificateId, bool ApplianceAccess, bool SiteAccess);

/// <summary>
/// The per-address settings the admin saves on the IP Configuration page and through PUT network/addresses: the
/// certificate (kept by the certificate store, which checks it can serve) and whether /appliance and the site answer
/// there (the host's own "network" table). Addresses without a setting use the defaults: no certificate, both on.
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

    /// <summary>Takes the store made on <paramref name="database"/>: its tables exist before this module's first step copies from them.</summary>
    public AddressSettings(StateDatabase database, CertificateStore store)
    {
        _database = database;
        _store = store;
        _database.Migrate(Module, Migrations);
    }

    /// <summary>Raised after saved settings changed what answers where. Handlers must be fast and must not throw.</summary>
    public event Action? Changed;

    /// <summary>Every address with a stored setting, by address.</summary>
    public IReadOnlyList<AddressAssignment> List()
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
    public void Set(IReadOnlyList<AddressAssignment> changes)
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
}
