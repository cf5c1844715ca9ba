using System.Security.Cryptography;
using Appliance.Storage;
using Appliance.Certificates.Store;
using Appliance.Certificates.Vault;

namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>A fresh state directory with the real SQLite database, a software vault and the certificate store.</summary>
public sealed class TestState : IDisposable
{
    static TestState() => SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_sqlite3());

    public TestState(TimeProvider? time = null)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("acme-state-").FullName;
        Database = new StateDatabase(Path.Combine(Directory, "appliance.db"));
        Vault = new AesGcmKeyVault(RandomNumberGenerator.GetBytes(32), "software");
        Store = new CertificateStore(Database, Vault, time ?? TimeProvider.System);
    }

    public string Directory { get; }
    public StateDatabase Database { get; }
    public AesGcmKeyVault Vault { get; }
    public CertificateStore Store { get; }

    public void Dispose()
    {
        Vault.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Collects alerts instead of mailing them.</summary>
public sealed class RecordingAlerts : IRenewalAlerts
{
    public List<RenewalAlert> Alerts { get; } = [];

    public Task SendAsync(RenewalAlert alert, CancellationToken cancellationToken)
    {
        lock (Alerts) Alerts.Add(alert);
        return Task.CompletedTask;
    }
}
