namespace Appliance.Audit;

/// <summary>
/// Stores the audit log's pending anonymous counts every <see cref="Interval"/> (and at shutdown), and once a minute
/// logs how many refusals were counted without a line of their own.
/// </summary>
internal sealed partial class AuditFlushService(AuditLog log, TimeProvider time, ILogger<AuditFlushService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly int TicksPerSummary = (int)(TimeSpan.FromMinutes(1) / Interval);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        var ticks = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    log.Flush();
                    if (++ticks % TicksPerSummary == 0) log.LogUnlogged();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The counts stay pending (a failed flush puts them back): try again at the next tick.
                    LogFlushFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        log.Flush();
        log.LogUnlogged();
    }

    [LoggerMessage(EventId = EventIds.Audit.RefusalCountsNotStored, Level = LogLevel.Warning, Message = "Audit: storing the counts of refused anonymous requests failed; trying again")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
