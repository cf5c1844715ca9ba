using Microsoft.Data.Sqlite;

namespace Appliance.Storage;

/// <summary>
/// The appliance's SQLite state (appliance.db): WAL journal, synchronous=FULL so an acknowledged
/// write survives a power cut, foreign keys on. Each module owns its schema as an ordered list of
/// migration steps, recorded per module in <c>schema_migrations</c>; steps are never edited once shipped.
/// </summary>
public sealed class StateDatabase
{
    private readonly string _connectionString;

    public StateDatabase(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        using var connection = Open();
        Sql.Execute(connection, null, "PRAGMA journal_mode=WAL;");
        Sql.Execute(connection, null, """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                module TEXT NOT NULL,
                version INTEGER NOT NULL,
                applied_at TEXT NOT NULL,
                PRIMARY KEY (module, version));
            """);
    }

    public string Path { get; }

    /// <summary>An open connection with the per-connection pragmas set.</summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Sql.Execute(connection, null, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;");
        return connection;
    }

    /// <summary>Applies the steps of <paramref name="module"/> not yet applied, each in its own transaction.</summary>
    public void Migrate(string module, IReadOnlyList<string> steps)
    {
        using var connection = Open();
        for (var version = 1; version <= steps.Count; version++)
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            if (Sql.Scalar<long>(connection, transaction, "SELECT COUNT(*) FROM schema_migrations WHERE module = $m AND version = $v",
                    ("$m", module), ("$v", version)) > 0) continue;
            Sql.Execute(connection, transaction, steps[version - 1]);
            Sql.Execute(connection, transaction, "INSERT INTO schema_migrations (module, version, applied_at) VALUES ($m, $v, $t)",
                ("$m", module), ("$v", version), ("$t", DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
            transaction.Commit();
        }
    }
}
