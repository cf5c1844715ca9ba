using System.Globalization;

namespace Appliance.Acme.Renewal;

/// <summary>
/// Keeps automated certificates issued and renewed: wakes at the earliest next check (at least hourly, at once when
/// triggered), decides for each certificate with <see cref="RenewalPolicy"/>, and runs at most one issuance per
/// certificate at a time (a second request joins the running one). State lives in SQLite, so a restart picks up
/// where it stopped. Host it as a background service: <see cref="RunAsync"/> until shutdown.
/// </summary>
public sealed class RenewalScheduler
{
    public static readonly TimeSpan MaxSleep = TimeSpan.FromHours(1);
    private readonly AcmeService _service;
    private readonly IRenewalAlerts _alerts;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Task<AutomatedCertificate>> _running = [];
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private CancellationToken _stopping;

    public RenewalScheduler(AcmeService service, IRenewalAlerts alerts, TimeProvider time)
    {
        _service = service;
        _alerts = alerts;
        _time = time;
    }

    /// <summary>Raised after each issuance attempt with its outcome (for the service log). Handlers must not throw.</summary>
    public event Action<AutomatedCertificate>? Attempted;

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        while (!stoppingToken.IsCancellationRequested)
        {
            var next = await RunDueAsync(stoppingToken);
            var sleep = next - _time.GetUtcNow();
            if (sleep > MaxSleep) sleep = MaxSleep;
            if (sleep < TimeSpan.FromSeconds(1)) sleep = TimeSpan.FromSeconds(1);
            // Sleep on the injected clock, or until triggered; the loser is cancelled so no wake-up is consumed later.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var delay = Task.Delay(sleep, _time, wait.Token);
            var woken = _wake.WaitAsync(wait.Token);
            await Task.WhenAny(delay, woken);
            wait.Cancel();
            try
            {
                await Task.WhenAll(delay, woken);
            }
            catch (OperationCanceledException)
            {
                // The one not finished was cancelled.
            }
        }
    }

    /// <summary>Looks at every automated certificate once: status, alerts, and renewals that are due. Returns the earliest next check.</summary>
    public async Task<DateTimeOffset> RunDueAsync(CancellationToken cancellationToken)
    {
        var next = _time.GetUtcNow() + MaxSleep;
        foreach (var certificate in _service.ListCertificates())
        {
            if (IsRunning(certificate.Id)) continue;
            await _service.RefreshRenewalInfoAsync(certificate, cancellationToken);
            var decision = _service.Decide(certificate);
            _service.ApplyDecision(certificate, decision);
            if (decision.AlertDue) await AlertAsync(certificate, decision, cancellationToken);
            if (decision.Action == RenewalAction.Renew) _ = Start(certificate.Id);
            else if (decision.NextCheck < next) next = decision.NextCheck;
        }
        return next;
    }

    /// <summary>
    /// The admin's "renew now": starts an issuance unless one runs (then joins it) or a rate limit's Retry-After
    /// forbids it (then says until when). Returns the running issuance.
    /// </summary>
    public Task<AutomatedCertificate> RenewNowAsync(string id)
    {
        var certificate = _service.GetCertificate(id);
        lock (_lock)
            if (_running.TryGetValue(id, out var running)) return running;
        var decision = _service.Decide(certificate, force: true);
        if (decision.Action != RenewalAction.Renew)
            throw new AcmeSettingsException(AcmeSettingsFailure.Conflict, $"{certificate.Hostname} cannot be renewed now: {decision.Reason}");
        return Start(id);
    }

    /// <summary>Wakes the loop (a certificate was requested or changed).</summary>
    public void Trigger()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already triggered.
        }
    }

    /// <summary>Completes when no issuance runs (tests).</summary>
    internal Task WhenIdleAsync()
    {
        lock (_lock) return Task.WhenAll(_running.Values.ToList());
    }

    public bool IsRunning(string id)
    {
        lock (_lock) return _running.ContainsKey(id);
    }

    private Task<AutomatedCertificate> Start(string id)
    {
        lock (_lock)
        {
            if (_running.TryGetValue(id, out var running)) return running;
            var task = Task.Run(async () =>
            {
                try
                {
                    var result = await _service.IssueAsync(id, _stopping);
                    Attempted?.Invoke(result);
                    return result;
                }
                finally
                {
                    lock (_lock) _running.Remove(id);
                    Trigger();
                }
            });
            _running[id] = task;
            return task;
        }
    }

    private async Task AlertAsync(AutomatedCertificate certificate, RenewalDecision decision, CancellationToken cancellationToken)
    {
        var current = _service.CurrentCertificate(certificate);
        var notAfter = current?.Facts.NotAfter;
        var daysLeft = notAfter is { } end ? (int)Math.Floor((end - _time.GetUtcNow()).TotalDays) : (int?)null;
        var reason = certificate.LastError is null ? decision.Reason : $"{decision.Reason} Last error: {certificate.LastError}";
        await _alerts.SendAsync(new RenewalAlert(certificate, notAfter, daysLeft, reason), cancellationToken);
        _service.RecordAlert(_service.GetCertificate(certificate.Id), _time.GetUtcNow());
    }

    /// <summary>The alert text: the certificate, the hostname, the days left and the last error.</summary>
    public static string AlertText(RenewalAlert alert) =>
        $"The automated certificate for {alert.Certificate.Hostname} (id {alert.Certificate.Id}) "
        + (alert.DaysLeft is { } days ? $"expires in {days} days, on {alert.NotAfter!.Value.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}, and " : "")
        + $"has not been renewed. {alert.Reason}";
}
