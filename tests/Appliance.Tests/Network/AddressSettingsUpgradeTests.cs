using System.Net;
using Appliance.Certificates.Store;
using Appliance.Storage;
using Microsoft.Data.Sqlite;

namespace Appliance.Tests.Network;

/// <summary>
/// The /appliance and site flags per address moved from the certificate store's address_assignments to the host's
/// own table: a database written before the move keeps its flags, and the appliance applies them.
/// </summary>
public sealed class AddressSettingsUpgradeTests
{
    static AddressSettingsUpgradeTests() => SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_sqlite3());

    [Fact]
    public async Task AnAddressSwitchedOffBeforeTheHostOwnedItsFlagsStaysOffAfterTheUpgrade()
    {
        var state = Directory.CreateTempSubdirectory("appliance-state-").FullName;
        // The database as the previous version left it: the certificates module's steps, the flags in its table.
        var database = new StateDatabase(Path.Combine(state, "appliance.db"));
        database.Migrate(CertificateSchema.Module, CertificateSchema.Migrations);
        using (var connection = database.Open())
            Sql.Execute(connection, null, """
                INSERT INTO address_assignments (address, certificate_id, appliance_access, site_access)
                VALUES ('127.0.0.6', NULL, 0, 1), ('127.0.0.8', NULL, 1, 0)
                """);
        SqliteConnection.ClearAllPools();

        await using var appliance = await ApplianceProcess.StartAsync(state, ApplianceProcess.AdminPassword, "--bind", "::");
        using var client = await appliance.LoginAsync();
        var addresses = (await Json.ReadAsync(await client.GetAsync("network/addresses"))).EnumerateArray()
            .ToDictionary(a => a.GetProperty("address").GetString()!, a => (a.GetProperty("applianceAccess").GetBoolean(), a.GetProperty("siteAccess").GetBoolean()));

        Assert.Equal((false, true), addresses["127.0.0.6"]);
        Assert.Equal((true, false), addresses["127.0.0.8"]);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var raw = new HttpClient(handler);
        Assert.Equal(HttpStatusCode.NotFound, (await raw.GetAsync($"https://127.0.0.6:{appliance.HttpsPort}/appliance/api/v1/status")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await raw.GetAsync($"https://127.0.0.8:{appliance.HttpsPort}/")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await raw.GetAsync($"https://127.0.0.8:{appliance.HttpsPort}/appliance/api/v1/status")).StatusCode);
    }
}
