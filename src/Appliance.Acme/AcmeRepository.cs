using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Acme.Protocol;
using Appliance.Acme.Renewal;
using Appliance.Storage;
using Appliance.Certificates.Vault;
using Microsoft.Data.Sqlite;

namespace Appliance.Acme;

/// <summary>
/// The "acme" module's tables in the state database: ACME servers, their accounts (account key sealed by the vault,
/// bound to the server id) and the automated certificates with their renewal history.
/// </summary>
internal sealed class AcmeRepository
{
    public const string Module = "acme";

    internal static readonly IReadOnlyList<string> Migrations =
    [
        """
        CREATE TABLE acme_servers (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            directory_url TEXT NOT NULL,
            website TEXT,
            terms_of_service TEXT,
            email TEXT,
            eab_key_id TEXT,
            eab_hmac_key BLOB,
            profiles TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL);
        CREATE TABLE acme_accounts (
            server_id TEXT PRIMARY KEY REFERENCES acme_servers (id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            key_thumbprint TEXT NOT NULL,
            key_sealed BLOB NOT NULL,
            created_at TEXT NOT NULL);
        CREATE TABLE acme_certificates (
            id TEXT PRIMARY KEY,
            server_id TEXT NOT NULL REFERENCES acme_servers (id),
            hostname TEXT NOT NULL,
            key_type TEXT NOT NULL,
            profile TEXT,
            status TEXT NOT NULL,
            last_error TEXT,
            reason TEXT,
            renew_after TEXT,
            certificate_id TEXT,
            history TEXT NOT NULL DEFAULT '[]',
            last_alert_at TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (server_id, hostname));
        """,
        "ALTER TABLE acme_certificates ADD COLUMN preferred_chain TEXT;",
    ];

    private readonly StateDatabase _database;
    private readonly IKeyVault _vault;

    public AcmeRepository(StateDatabase database, IKeyVault vault)
    {
        _database = database;
        _vault = vault;
        _database.Migrate(Module, Migrations);
    }

    // ---------------------------------------------------------------- servers and accounts

    public void InsertServer(AcmeServer server, string? eabHmacKey, byte[] accountKeyPkcs8, string thumbprint)
    {
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        Sql.Execute(connection, transaction, """
            INSERT INTO acme_servers (id, type, directory_url, website, terms_of_service, email, eab_key_id, eab_hmac_key, profiles, created_at)
            VALUES ($id, $type, $dir, $web, $tos, $email, $kid, $hmac, $profiles, $at)
            """, ("$id", server.Id), ("$type", server.Type), ("$dir", server.DirectoryUrl), ("$web", server.Website), ("$tos", server.TermsOfService),
            ("$email", server.Email), ("$kid", server.EabKeyId),
            ("$hmac", eabHmacKey is null ? null : _vault.Seal(Encoding.UTF8.GetBytes(eabHmacKey), Ad("acme-eab", server.Id))),
            ("$profiles", string.Join('\n', server.Profiles)), ("$at", Text(server.CreatedAt)));
        Sql.Execute(connection, transaction, """
            INSERT INTO acme_accounts (server_id, url, key_thumbprint, key_sealed, created_at) VALUES ($id, $url, $tp, $key, $at)
            """, ("$id", server.Id), ("$url", server.AccountUrl), ("$tp", thumbprint),
            ("$key", _vault.Seal(accountKeyPkcs8, Ad("acme-account", server.Id))), ("$at", Text(server.CreatedAt)));
        transaction.Commit();
    }

    public IReadOnlyList<AcmeServer> ListServers()
    {
        using var connection = _database.Open();
        using var command = Sql.Command(connection, null, """
            SELECT s.id, s.type, s.directory_url, s.website, s.terms_of_service, s.email, s.eab_key_id, a.url, s.profiles, s.created_at
            FROM acme_servers s JOIN acme_accounts a ON a.server_id = s.id ORDER BY s.created_at, s.id
            """);
        using var reader = command.ExecuteReader();
        var servers = new List<AcmeServer>();
        while (reader.Read())
            servers.Add(new AcmeServer(reader.GetString(0), reader.GetString(1), reader.GetString(2), S(reader, 3), S(reader, 4), S(reader, 5), S(reader, 6),
                reader.GetString(7), reader.GetString(8).Split('\n', StringSplitOptions.RemoveEmptyEntries), Date(reader.GetString(9))));
        return servers;
    }

    /// <summary>The sealed account key, opened (its plaintext zeroed once imported); throws <see cref="VaultUnavailableException"/> when the vault cannot open it.</summary>
    public AcmeAccountKey OpenAccountKey(string serverId)
    {
        using var connection = _database.Open();
        using var command = Sql.Command(connection, null, "SELECT key_sealed FROM acme_accounts WHERE server_id = $id");
        command.Parameters.AddWithValue("$id", serverId);
        var sealedKey = command.ExecuteScalar() as byte[]
            ?? throw new AcmeSettingsException(AcmeSettingsFailure.NotFound, $"The ACME server '{serverId}' has no account; register it again.");
        return _vault.OpenAndUse(sealedKey, Ad("acme-account", serverId), pkcs8 => AcmeAccountKey.FromPkcs8(pkcs8));
    }

    public void ReplaceAccountKey(string serverId, byte[] accountKeyPkcs8, string thumbprint)
    {
        using var connection = _database.Open();
        Sql.Execute(connection, null, "UPDATE acme_accounts SET key_sealed = $key, key_thumbprint = $tp WHERE server_id = $id",
            ("$id", serverId), ("$key", _vault.Seal(accountKeyPkcs8, Ad("acme-account", serverId))), ("$tp", thumbprint));
    }

    public bool DeleteServer(string id)
    {
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var check = Sql.Command(connection, transaction, "SELECT COUNT(*) FROM acme_certificates WHERE server_id = $id"))
        {
            check.Parameters.AddWithValue("$id", id);
            var count = Convert.ToInt64(check.ExecuteScalar(), CultureInfo.InvariantCulture);
            if (count > 0)
                throw new AcmeSettingsException(AcmeSettingsFailure.InUse,
                    $"The ACME server is used by {count} automated certificate{(count == 1 ? "" : "s")}; delete {(count == 1 ? "it" : "them")} or move {(count == 1 ? "it" : "them")} to another server first.");
        }
        Sql.Execute(connection, transaction, "DELETE FROM acme_accounts WHERE server_id = $id", ("$id", id));
        var deleted = Sql.Execute(connection, transaction, "DELETE FROM acme_servers WHERE id = $id", ("$id", id)) > 0;
        transaction.Commit();
        return deleted;
    }

    // ---------------------------------------------------------------- automated certificates

    public void InsertCertificate(AutomatedCertificate certificate)
    {
        using var connection = _database.Open();
        try
        {
            Sql.Execute(connection, null, """
                INSERT INTO acme_certificates (id, server_id, hostname, key_type, profile, preferred_chain, status, reason, history, created_at)
                VALUES ($id, $server, $host, $key, $profile, $chain, $status, $reason, '[]', $at)
                """, ("$id", certificate.Id), ("$chain", certificate.PreferredChain), ("$server", certificate.ServerId), ("$host", certificate.Hostname), ("$key", certificate.KeyType),
                ("$profile", certificate.Profile), ("$status", StatusText(certificate.Status)), ("$reason", certificate.Reason), ("$at", Text(certificate.CreatedAt)));
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: UNIQUE (server_id, hostname)
        {
            throw new AcmeSettingsException(AcmeSettingsFailure.Conflict,
                $"An automated certificate for {certificate.Hostname} from this ACME server exists already; renew it instead.");
        }
    }

    public IReadOnlyList<AutomatedCertificate> ListCertificates()
    {
        using var connection = _database.Open();
        using var command = Sql.Command(connection, null, """
            SELECT id, server_id, hostname, key_type, profile, status, last_error, renew_after, certificate_id, reason, history, last_alert_at, created_at, preferred_chain
            FROM acme_certificates ORDER BY created_at, id
            """);
        using var reader = command.ExecuteReader();
        var list = new List<AutomatedCertificate>();
        while (reader.Read())
        {
            var attempts = JsonSerializer.Deserialize(reader.GetString(10), AcmeStateJson.Default.ListRenewalAttempt) ?? [];
            var lastAlert = S(reader, 11) is { } alert ? Date(alert) : (DateTimeOffset?)null;
            list.Add(new AutomatedCertificate(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), S(reader, 4),
                ParseStatus(reader.GetString(5)), S(reader, 6), S(reader, 7) is { } renew ? Date(renew) : null, S(reader, 8), S(reader, 9),
                new RenewalHistory(attempts, lastAlert), Date(reader.GetString(12))) { PreferredChain = S(reader, 13) });
        }
        return list;
    }

    public AutomatedCertificate GetCertificate(string id) =>
        ListCertificates().FirstOrDefault(c => c.Id == id)
        ?? throw new AcmeSettingsException(AcmeSettingsFailure.NotFound, $"There is no automated certificate with id '{id}'; it may have been deleted. Reload the list.");

    /// <summary>Writes the state the admin sees and the history; the issued certificate id when given.</summary>
    public void UpdateCertificate(string id, AutomatedCertificateStatus status, string? lastError, DateTimeOffset? renewAfter, string? reason,
        RenewalHistory history, string? certificateId)
    {
        using var connection = _database.Open();
        Sql.Execute(connection, null, """
            UPDATE acme_certificates SET status = $status, last_error = $error, renew_after = $renew, reason = $reason, history = $history,
                last_alert_at = $alert, certificate_id = COALESCE($cert, certificate_id)
            WHERE id = $id
            """, ("$id", id), ("$status", StatusText(status)), ("$error", lastError), ("$renew", renewAfter is { } r ? Text(r) : null), ("$reason", reason),
            ("$history", JsonSerializer.Serialize(history.Attempts.ToList(), AcmeStateJson.Default.ListRenewalAttempt)),
            ("$alert", history.LastAlertAt is { } a ? Text(a) : null), ("$cert", certificateId));
    }

    public bool DeleteCertificate(string id)
    {
        using var connection = _database.Open();
        return Sql.Execute(connection, null, "DELETE FROM acme_certificates WHERE id = $id", ("$id", id)) > 0;
    }

    public static string StatusText(AutomatedCertificateStatus status) => status.ToString().ToLowerInvariant();

    private static AutomatedCertificateStatus ParseStatus(string text) =>
        Enum.TryParse<AutomatedCertificateStatus>(text, ignoreCase: true, out var status) ? status : AutomatedCertificateStatus.Error;

    private static byte[] Ad(string purpose, string id) => Encoding.ASCII.GetBytes(purpose + ":" + id);

    private static string Text(DateTimeOffset value) => value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Date(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static string? S(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<RenewalAttempt>))]
internal sealed partial class AcmeStateJson : JsonSerializerContext;
