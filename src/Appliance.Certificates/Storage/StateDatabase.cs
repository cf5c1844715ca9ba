using Microsoft.Data.Sqlite;

namespace Appliance.Certificates.Storage;

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
        Execute(connection, "PRAGMA journal_mode=WAL;");
        Execute(connection, """
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
        Execute(connection, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;");
        return connection;
    }

    /// <summary>Applies the steps of <paramref name="module"/> not yet applied, each in its own transaction.</summary>
    public void Migrate(string module, IReadOnlyList<string> steps)
    {
        using var connection = Open();
        for (var version = 1; version <= steps.Count; version++)
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            using (var check = connection.CreateCommand())
            {
                check.Transaction = transaction;
                check.CommandText = "SELECT COUNT(*) FROM schema_migrations WHERE module = $m AND version = $v";
                check.Parameters.AddWithValue("$m", module);
                check.Parameters.AddWithValue("$v", version);
                if (Convert.ToInt64(check.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0) continue;
            }
            using (var step = connection.CreateCommand())
            {
                step.Transaction = transaction;
                step.CommandText = steps[version - 1];
                step.ExecuteNonQuery();
            }
            using (var record = connection.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO schema_migrations (module, version, applied_at) VALUES ($m, $v, $t)";
                record.Parameters.AddWithValue("$m", module);
                record.Parameters.AddWithValue("$v", version);
                record.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToString("O"));
                record.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    /// <summary>A command on <paramref name="connection"/> in <paramref name="transaction"/> with named parameters (null as SQL NULL).</summary>
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    public static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
