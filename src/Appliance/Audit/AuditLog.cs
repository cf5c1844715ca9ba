using System.Globalization;
using Appliance.Certificates.Storage;

namespace Appliance.Audit;

/// <summary>One recorded change: who (null when nobody was signed in), from which address, what, and how it ended. Public: the Audit log page's slice model carries it.</summary>
public sealed record AuditEntry(
    long Id, DateTimeOffset At, string? Username, string Address, string Method, string Path, int Status, string Outcome, string Action, string? Detail);

/// <summary>
/// The audit log: the "audit" module's table in appliance.db, newest entries first, each one also written to the
/// service log (the journal under systemd). The oldest entries beyond <see cref="MaxEntries"/> are dropped so a
/// flood of refused requests cannot fill the disk.
/// </summary>
internal sealed partial class AuditLog
{
    public const string Module = "audit";
    public const int MaxEntries = 100_000;
    public const string Ok = "ok";
    public const string Refused = "refused";
    public const string Failed = "failed";

    private static readonly IReadOnlyList<string> Migrations =
    [
        """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            username TEXT,
            address TEXT NOT NULL,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            status INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT);
        """,
    ];

    private readonly StateDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditLog> _logger;

    public AuditLog(StateDatabase database, TimeProvider time, ILogger<AuditLog> logger)
    {
        _database = database;
        _time = time;
        _logger = logger;
        _database.Migrate(Module, Migrations);
    }

    public AuditEntry Record(string? username, string address, string method, string path, int status, string outcome, string action, string? detail)
    {
        var at = _time.GetUtcNow();
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction();
        long id;
        using (var insert = StateDatabase.Command(connection, transaction, """
            INSERT INTO audit_log (at, username, address, method, path, status, outcome, action, detail)
            VALUES ($at, $user, $address, $method, $path, $status, $outcome, $action, $detail) RETURNING id
            """,
            ("$at", at.ToString("O", CultureInfo.InvariantCulture)), ("$user", username), ("$address", address), ("$method", method),
            ("$path", path), ("$status", status), ("$outcome", outcome), ("$action", action), ("$detail", detail)))
            id = Convert.ToInt64(insert.ExecuteScalar(), CultureInfo.InvariantCulture);
        using (var prune = StateDatabase.Command(connection, transaction, "DELETE FROM audit_log WHERE id <= $oldest", ("$oldest", id - MaxEntries)))
            prune.ExecuteNonQuery();
        transaction.Commit();
        LogEntry(_logger, username ?? "(not signed in)", address, action, outcome, detail is null ? "" : ": " + detail, method, path, status);
        return new AuditEntry(id, at, username, address, method, path, status, outcome, action, detail);
    }

    /// <summary>Up to <paramref name="limit"/> entries older than entry <paramref name="before"/> (all when null), newest first.</summary>
    public IReadOnlyList<AuditEntry> List(int limit, long? before)
    {
        using var connection = _database.Open();
        using var command = StateDatabase.Command(connection, null, """
            SELECT id, at, username, address, method, path, status, outcome, action, detail FROM audit_log
            WHERE $before IS NULL OR id < $before ORDER BY id DESC LIMIT $limit
            """, ("$before", before), ("$limit", limit));
        using var reader = command.ExecuteReader();
        var entries = new List<AuditEntry>();
        while (reader.Read())
            entries.Add(new AuditEntry(reader.GetInt64(0), DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture),
                reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                (int)reader.GetInt64(6), reader.GetString(7), reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9)));
        return entries;
    }

    public long Count()
    {
        using var connection = _database.Open();
        using var command = StateDatabase.Command(connection, null, "SELECT COUNT(*) FROM audit_log");
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information,
        Message = "Audit: {User} from {Address}: {Action} [{Outcome}{Detail}] ({Method} {Path} {Status})")]
    private static partial void LogEntry(ILogger logger, string user, string address, string action, string outcome, string detail,
        string method, string path, int status);
}
