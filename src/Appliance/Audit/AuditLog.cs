using System.Globalization;
using Appliance.Storage;
using Appliance.Hosting;
using Microsoft.Data.Sqlite;

namespace Appliance.Audit;

/// <summary>
/// One recorded change: who (null when nobody was signed in), from which address, what, and how it ended. An
/// <see cref="Anonymous"/> entry stands for <see cref="Count"/> refused requests without a signed-in admin from one
/// address in one minute (from <see cref="At"/> to <see cref="LastAt"/>), described by the first of them.
/// Public: the Audit log page's slice model carries it.
/// </summary>
public sealed record AuditEntry(
    long Id, DateTimeOffset At, string? Username, string Address, string Method, string Path, int Status, string Outcome, string Action, string? Detail,
    bool Anonymous = false, long Count = 1, DateTimeOffset? LastAt = null)
{
    /// <summary>"23 refused anonymous requests from 192.0.2.1 in this minute" for an anonymous entry; null otherwise.</summary>
    public string? Summary => Anonymous
        ? $"{Count} refused anonymous request{(Count == 1 ? "" : "s")} from {Address} in this minute"
        : null;
}

/// <summary>
/// The audit log: the "audit" module's table in appliance.db, newest entries first, each also written to the service
/// log (the journal under systemd). Entries of signed-in admins are stored one by one; refused anonymous requests are
/// counted per source address and minute (<see cref="AnonymousRefusals"/>) and stored as one row each. The two kinds
/// have separate budgets (<see cref="AuditBudget"/>), so anonymous traffic never pushes out an admin's entries.
/// Every stored text is escaped and length-capped (<see cref="SafeText"/>). When the disk is full, entries wait in
/// memory (at most <see cref="MaxUnsaved"/>) and are stored once space is back.
/// </summary>
internal sealed partial class AuditLog
{
    public const string Module = "audit";
    public const string Ok = "ok";
    public const string Refused = "refused";
    public const string Failed = "failed";
    public const int MaxNameLength = 256;
    public const int MaxAddressLength = 64;
    public const int MaxMethodLength = 32;
    public const int MaxActionLength = 1_000;
    public const int MaxDetailLength = 2_000;
    public const int MaxUnsaved = 1_000;

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
        // Anonymous refusals: one row per source address and minute with a count; each kind kept within its own budget.
        """
        ALTER TABLE audit_log ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE audit_log ADD COLUMN minute TEXT;
        ALTER TABLE audit_log ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE audit_log ADD COLUMN last_at TEXT;
        ALTER TABLE audit_log ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
        UPDATE audit_log SET anonymous = 1 WHERE username IS NULL AND outcome <> 'ok';
        UPDATE audit_log SET bytes = length(CAST(coalesce(username, '') || address || method || path || outcome || action || coalesce(detail, '') AS BLOB));
        CREATE INDEX audit_log_kind ON audit_log (anonymous, id);
        CREATE UNIQUE INDEX audit_log_source_minute ON audit_log (address, minute) WHERE anonymous = 1;
        """,
    ];

    private readonly StateDatabase _database;
    private readonly StatePartition _partition;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditLog> _logger;
    private readonly AnonymousRefusals _refusals = new();
    private readonly Lock _totalsLock = new();
    private readonly Lock _flushLock = new();
    private readonly Queue<AuditEntry> _unsaved = new();
    private long _unsavedDropped;
    private (long Rows, long Bytes) _admins;
    private (long Rows, long Bytes) _anonymous;

    public AuditLog(StateDatabase database, StatePartition partition, TimeProvider time, ILogger<AuditLog> logger)
    {
        _database = database;
        _partition = partition;
        _time = time;
        _logger = logger;
        _database.Migrate(Module, Migrations);
        using var connection = _database.Open();
        _admins = Totals(connection, null, anonymous: false);
        _anonymous = Totals(connection, null, anonymous: true);
    }

    /// <summary>
    /// Records one request. Without a signed-in admin (<paramref name="signedIn"/> false) a refusal is counted for its
    /// source and minute and stored by <see cref="Flush"/>; anything else is stored now.
    /// </summary>
    public void Record(bool signedIn, string? username, string address, string method, string path, int status, string outcome, string action, string? detail)
    {
        var at = _time.GetUtcNow();
        username = SafeText.EscapeOrNull(username, MaxNameLength);
        address = SafeText.Escape(address, MaxAddressLength);
        method = SafeText.Escape(method, MaxMethodLength);
        path = SafeText.Escape(path, MaxNameLength);
        action = SafeText.Escape(action, MaxActionLength);
        detail = SafeText.EscapeOrNull(detail, MaxDetailLength);
        if (!signedIn && outcome != Ok)
        {
            if (_refusals.Add(address, at, new RefusalSample(username, method, path, status, outcome, action, detail)))
                LogEntry(_logger, username ?? "(not signed in)", address, action, outcome, detail is null ? "" : ": " + detail, method, path, status);
            if (_refusals.PendingSources >= AnonymousRefusals.MaxPendingSources) Flush();
            return;
        }
        LogEntry(_logger, username ?? "(not signed in)", address, action, outcome, detail is null ? "" : ": " + detail, method, path, status);
        var entry = new AuditEntry(0, at, username, address, method, path, status, outcome, action, detail);
        lock (_flushLock)
        {
            // Earlier refusals first, so the ids keep the order in which things happened.
            FlushLocked();
            try
            {
                Insert(entry);
            }
            catch (Exception e) when (_partition.SkipWhenFull(e, "an audit log entry (kept in memory until space is freed)"))
            {
                KeepUnsaved(entry);
            }
        }
    }

    /// <summary>Stores the pending anonymous counts and entries that waited for space; what still does not fit waits on.</summary>
    public void Flush()
    {
        lock (_flushLock) FlushLocked();
    }

    private void FlushLocked()
    {
        try
        {
            SaveUnsaved();
        }
        catch (Exception e) when (_partition.SkipWhenFull(e, "an audit log entry (kept in memory until space is freed)"))
        {
            return; // the counts wait too: stored after the entries before them
        }
        var counts = _refusals.Drain();
        if (counts.Count == 0) return;
        try
        {
            Upsert(counts);
        }
        catch (Exception e)
        {
            _refusals.Restore(counts);
            if (!_partition.SkipWhenFull(e, "the counts of refused anonymous requests (kept in memory until space is freed)")) throw;
        }
    }

    /// <summary>Writes a summary of the refusals not logged one by one since the last call (called once a minute).</summary>
    public void LogUnlogged()
    {
        if (_refusals.TakeUnlogged() is { } unlogged)
            LogSuppressed(_logger, unlogged.Refusals, unlogged.Sources, AnonymousRefusals.LinesPerMinute);
    }

    /// <summary>Up to <paramref name="limit"/> entries older than entry <paramref name="before"/> (all when null), newest first; pending counts are stored first.</summary>
    public IReadOnlyList<AuditEntry> List(int limit, long? before)
    {
        Flush();
        using var connection = _database.Open();
        using var command = Sql.Command(connection, null, """
            SELECT id, at, username, address, method, path, status, outcome, action, detail, anonymous, count, last_at FROM audit_log
            WHERE $before IS NULL OR id < $before ORDER BY id DESC LIMIT $limit
            """, ("$before", before), ("$limit", limit));
        using var reader = command.ExecuteReader();
        var entries = new List<AuditEntry>();
        while (reader.Read())
            entries.Add(new AuditEntry(reader.GetInt64(0), Parse(reader.GetString(1)),
                reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                (int)reader.GetInt64(6), reader.GetString(7), reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9),
                reader.GetInt64(10) != 0, reader.GetInt64(11), reader.IsDBNull(12) ? null : Parse(reader.GetString(12))));
        return entries;
    }

    public long Count()
    {
        using var connection = _database.Open();
        using var command = Sql.Command(connection, null, "SELECT COUNT(*) FROM audit_log");
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private void Insert(AuditEntry e)
    {
        var bytes = AuditBudget.SizeOf(e.Username, e.Address, e.Method, e.Path, e.Outcome, e.Action, e.Detail);
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction();
        using (var insert = Sql.Command(connection, transaction, """
            INSERT INTO audit_log (at, username, address, method, path, status, outcome, action, detail, bytes)
            VALUES ($at, $user, $address, $method, $path, $status, $outcome, $action, $detail, $bytes)
            """,
            ("$at", Format(e.At)), ("$user", e.Username), ("$address", e.Address), ("$method", e.Method), ("$path", e.Path),
            ("$status", e.Status), ("$outcome", e.Outcome), ("$action", e.Action), ("$detail", e.Detail), ("$bytes", bytes)))
            insert.ExecuteNonQuery();
        var totals = Prune(connection, transaction, anonymous: false, AuditBudget.Admins, (_admins.Rows + 1, _admins.Bytes + bytes));
        transaction.Commit();
        lock (_totalsLock) _admins = totals;
    }

    private void Upsert(IReadOnlyList<RefusalCount> counts)
    {
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction();
        foreach (var c in counts)
        {
            var s = c.Sample;
            using var upsert = Sql.Command(connection, transaction, """
                INSERT INTO audit_log (at, username, address, method, path, status, outcome, action, detail, anonymous, minute, count, last_at, bytes)
                VALUES ($at, $user, $address, $method, $path, $status, $outcome, $action, $detail, 1, $minute, $count, $last, $bytes)
                ON CONFLICT (address, minute) WHERE anonymous = 1 DO UPDATE SET count = count + excluded.count, last_at = max(last_at, excluded.last_at)
                """,
                ("$at", Format(c.FirstAt)), ("$user", s.Username), ("$address", c.Address), ("$method", s.Method), ("$path", s.Path),
                ("$status", s.Status), ("$outcome", s.Outcome), ("$action", s.Action), ("$detail", s.Detail),
                ("$minute", Format(c.Minute)), ("$count", c.Count), ("$last", Format(c.LastAt)),
                ("$bytes", AuditBudget.SizeOf(s.Username, c.Address, s.Method, s.Path, s.Outcome, s.Action, s.Detail)));
            upsert.ExecuteNonQuery();
        }
        // Upserts change the totals by an unknown number of new rows: count them again (at most one budget of rows).
        var totals = Prune(connection, transaction, anonymous: true, AuditBudget.Anonymous, Totals(connection, transaction, anonymous: true));
        transaction.Commit();
        lock (_totalsLock) _anonymous = totals;
    }

    /// <summary>Deletes the oldest rows of one kind beyond its budget; returns the totals left.</summary>
    private static (long Rows, long Bytes) Prune(SqliteConnection connection, SqliteTransaction transaction, bool anonymous, AuditBudget budget, (long Rows, long Bytes) totals)
    {
        while (budget.IsExceeded(totals.Rows, totals.Bytes))
        {
            var oldest = new List<(long Id, long Bytes)>();
            using (var select = Sql.Command(connection, transaction,
                "SELECT id, bytes FROM audit_log WHERE anonymous = $kind ORDER BY id LIMIT 1000", ("$kind", anonymous ? 1 : 0)))
            using (var reader = select.ExecuteReader())
                while (reader.Read()) oldest.Add((reader.GetInt64(0), reader.GetInt64(1)));
            if (oldest.Count == 0) break;
            var drop = budget.RowsToDrop(totals.Rows, totals.Bytes, oldest.Select(o => o.Bytes).ToList());
            using (var delete = Sql.Command(connection, transaction,
                "DELETE FROM audit_log WHERE anonymous = $kind AND id <= $last", ("$kind", anonymous ? 1 : 0), ("$last", oldest[drop - 1].Id)))
                delete.ExecuteNonQuery();
            totals = (totals.Rows - drop, totals.Bytes - oldest.Take(drop).Sum(o => o.Bytes));
        }
        return totals;
    }

    private static (long Rows, long Bytes) Totals(SqliteConnection connection, SqliteTransaction? transaction, bool anonymous)
    {
        using var command = Sql.Command(connection, transaction,
            "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM audit_log WHERE anonymous = $kind", ("$kind", anonymous ? 1 : 0));
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private void SaveUnsaved()
    {
        while (_unsaved.TryPeek(out var entry))
        {
            Insert(entry);
            _unsaved.Dequeue();
        }
        if (_unsavedDropped > 0)
        {
            LogUnsavedDropped(_logger, _unsavedDropped, MaxUnsaved);
            _unsavedDropped = 0;
        }
    }

    private void KeepUnsaved(AuditEntry entry)
    {
        if (_unsaved.Count >= MaxUnsaved)
        {
            _unsaved.Dequeue();
            _unsavedDropped++;
        }
        _unsaved.Enqueue(entry);
    }

    private static string Format(DateTimeOffset at) => at.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string at) => DateTimeOffset.Parse(at, CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = EventIds.Audit.Entry, Level = LogLevel.Information,
        Message = "Audit: {User} from {Address}: {Action} [{Outcome}{Detail}] ({Method} {Path} {Status})")]
    private static partial void LogEntry(ILogger logger, string user, string address, string action, string outcome, string detail,
        string method, string path, int status);

    [LoggerMessage(EventId = EventIds.Audit.AnonymousRefusalsSummarised, Level = LogLevel.Information,
        Message = "Audit: {Refusals} further refused anonymous requests from {Sources} source addresses were counted in the audit log but not logged one by one (at most {PerMinute} a minute are)")]
    private static partial void LogSuppressed(ILogger logger, long refusals, int sources, int perMinute);

    [LoggerMessage(EventId = EventIds.Audit.UnsavedEntriesDropped, Level = LogLevel.Warning,
        Message = "Audit: {Dropped} entries were lost while the state partition was full (at most {Max} wait in memory); the service log above has each of them")]
    private static partial void LogUnsavedDropped(ILogger logger, long dropped, int max);
}
