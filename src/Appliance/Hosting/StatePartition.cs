using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Appliance.Hosting;

/// <summary>The file system's figures for the state directory (statvfs): total, available to the service, used.</summary>
internal sealed record PartitionUsage(long TotalBytes, long FreeBytes, long UsedBytes)
{
    /// <summary>Used share as <c>df</c> computes it: used / (used + available), so blocks reserved for root count as unavailable.</summary>
    public double UsedPercent => UsedBytes + FreeBytes == 0 ? 0 : Math.Round(100.0 * UsedBytes / (UsedBytes + FreeBytes), 1);

    public bool IsNearlyFull => UsedPercent >= StatePartition.WarningPercent;
}

/// <summary>
/// The state partition (the file system holding appliance.db): its use for Status, the words of a refusal when it is
/// full (507), and the rule that a write nobody asked for (a session's last-seen time, an audit row) is skipped when
/// the disk is full, logged at most once per <see cref="SkippedWriteLogInterval"/>.
/// </summary>
internal sealed partial class StatePartition(string stateDirectory, TimeProvider time)
{
    public const double WarningPercent = 90;
    public static readonly TimeSpan SkippedWriteLogInterval = TimeSpan.FromMinutes(10);
    private const int SqliteFull = 13; // SQLITE_FULL
    private const int NoSpace = 28; // ENOSPC
    private const int QuotaExceeded = 122; // EDQUOT

    private readonly Lock _lock = new();
    private DateTimeOffset _lastSkipLogged = DateTimeOffset.MinValue;
    private int _skippedSinceLog;

    public string Directory { get; } = stateDirectory;

    /// <summary>Set once the host is built; until then skipped writes are only counted.</summary>
    public ILogger? Logger { get; set; }

    public PartitionUsage Usage()
    {
        var drive = new DriveInfo(Directory);
        var total = drive.TotalSize;
        var free = drive.AvailableFreeSpace;
        var used = Math.Max(0, total - drive.TotalFreeSpace);
        return new PartitionUsage(total, free, used);
    }

    /// <summary>Whether a write failed because the disk is full (SQLITE_FULL, or ENOSPC/EDQUOT from a file write).</summary>
    public static bool IsFull(Exception e) => e switch
    {
        SqliteException s => s.SqliteErrorCode == SqliteFull,
        IOException io => (io.HResult & 0xFFFF) is NoSpace or QuotaExceeded || io.InnerException is { } inner && IsFull(inner),
        _ => e.InnerException is { } inner && IsFull(inner),
    };

    /// <summary>The 507 refusal: what is left, and what to delete.</summary>
    public string FullDetail()
    {
        var usage = TryUsage();
        var figures = usage is null ? "" : $" ({Bytes(usage.FreeBytes)} free of {Bytes(usage.TotalBytes)})";
        return $"The state partition is full{figures}; nothing was changed. Delete unused certificates, certificate requests or ACME servers " +
            "(export what you want to keep first), then try again. Signing in, reading and exporting keep working meanwhile.";
    }

    /// <summary>Status' warning from <see cref="WarningPercent"/> on; null below.</summary>
    public static string? Warning(PartitionUsage usage) => usage.IsNearlyFull
        ? $"The state partition is {usage.UsedPercent.ToString("0.#", CultureInfo.InvariantCulture)}% full ({Bytes(usage.FreeBytes)} free of {Bytes(usage.TotalBytes)}). " +
          "When it is full, changes are refused (507) until space is freed: delete unused certificates and certificate requests."
        : null;

    /// <summary>
    /// For a write the request did not ask for: true (and logged at most once per interval) when it failed because the
    /// disk is full, so the caller goes on without it; false for any other failure, which the caller rethrows.
    /// </summary>
    public bool SkipWhenFull(Exception e, string what)
    {
        if (!IsFull(e)) return false;
        var now = time.GetUtcNow();
        int skipped;
        lock (_lock)
        {
            _skippedSinceLog++;
            if (Logger is null || now - _lastSkipLogged < SkippedWriteLogInterval) return true;
            _lastSkipLogged = now;
            skipped = _skippedSinceLog;
            _skippedSinceLog = 0;
        }
        LogSkipped(Logger, what, skipped, Directory, (int)SkippedWriteLogInterval.TotalMinutes);
        return true;
    }

    private PartitionUsage? TryUsage()
    {
        try
        {
            return Usage();
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>"12 KiB", "2.0 MiB", "3.6 GiB".</summary>
    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} bytes",
        < 1024 * 1024 => $"{bytes / 1024} KiB",
        < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / (1024.0 * 1024 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
    };

    [LoggerMessage(EventId = EventIds.State.WritesSkipped, Level = LogLevel.Warning,
        Message = "The state partition is full: {What} was not saved ({Skipped} writes skipped since the last such line; state in {Directory}; logged at most every {Minutes} minutes)")]
    private static partial void LogSkipped(ILogger logger, string what, int skipped, string directory, int minutes);
}
