using System.Text;

namespace Appliance.Audit;

/// <summary>
/// How much of the audit log one kind of entry may keep: at most <see cref="MaxRows"/> rows and <see cref="MaxBytes"/>
/// bytes of stored text; the oldest rows of that kind go first. Entries by signed-in admins and anonymous refusals
/// have separate budgets, so anonymous traffic can only push out older anonymous rows.
/// </summary>
internal sealed record AuditBudget(int MaxRows, long MaxBytes)
{
    /// <summary>Entries of signed-in admins (and logins): about a year of busy administration.</summary>
    public static readonly AuditBudget Admins = new(100_000, 64L * 1024 * 1024);

    /// <summary>Refused anonymous requests, one row per source address and minute.</summary>
    public static readonly AuditBudget Anonymous = new(10_000, 8L * 1024 * 1024);

    public bool IsExceeded(long rows, long bytes) => rows > MaxRows || bytes > MaxBytes;

    /// <summary>
    /// How many of the oldest rows (their sizes, oldest first) must go for the rest to fit; all of them when that is
    /// not enough yet (the caller then looks at the next oldest).
    /// </summary>
    public int RowsToDrop(long rows, long bytes, IReadOnlyList<long> oldestFirst)
    {
        var drop = 0;
        while (drop < oldestFirst.Count && IsExceeded(rows, bytes))
        {
            rows--;
            bytes -= oldestFirst[drop++];
        }
        return drop;
    }

    /// <summary>The stored size of an entry: its text fields in UTF-8.</summary>
    public static long SizeOf(params string?[] fields) => fields.Sum(f => f is null ? 0L : Encoding.UTF8.GetByteCount(f));
}
