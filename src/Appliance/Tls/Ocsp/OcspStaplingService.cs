using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates.Store;

namespace Appliance.Tls.Ocsp;

/// <summary>
/// Keeps an OCSP response ready for every serving certificate that names a responder (AIA id-ad-ocsp, http) and whose
/// issuer is in its chain: fetched soon after the certificate appears, refreshed by <see cref="OcspSchedule"/>, retried
/// with backoff, dropped when it expires. Handshakes only read what is already in <see cref="OcspStapling"/>, so a slow
/// or absent responder never delays one.
/// </summary>
internal sealed partial class OcspStaplingService(
    CertificateStore store, TlsCertificateSelector selector, OcspStapling stapling, TimeProvider time, ILogger<OcspStaplingService> logger)
    : BackgroundService
{
    internal static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(5);
    private const int MaxResponseBytes = 64 * 1024;
    private const int ParallelFetches = 4;
    /// <summary>A store change is followed by the selector's rebuild; give it a moment so the new snapshot is read.</summary>
    private static readonly TimeSpan SettleDelay = TimeSpan.FromMilliseconds(200);
    /// <summary>Look again at least this often (the selector also rebuilds on a timer, e.g. for validity).</summary>
    private static readonly TimeSpan LongestSleep = TimeSpan.FromMinutes(10);

    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly HttpClient _http = new(new SocketsHttpHandler { ConnectTimeout = FetchTimeout, AllowAutoRedirect = false })
    {
        Timeout = FetchTimeout,
        MaxResponseContentBufferSize = MaxResponseBytes,
    };

    /// <summary>One certificate to staple: its leaf, its issuer and the responder it names.</summary>
    private sealed record Target(string CertificateId, X509Certificate2 Leaf, string IssuerId, X509Certificate2 Issuer, Uri Responder);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        store.Changed += Wake;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                TimeSpan sleep;
                try
                {
                    sleep = await RunOnceAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogRoundFailed(logger, e);
                    sleep = TimeSpan.FromMinutes(1);
                }
                await SleepAsync(sleep, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            store.Changed -= Wake;
        }
    }

    private void Wake()
    {
        // Runs inside the store's change (an import, a delete): it must never throw there.
        try { _wake.Release(); }
        catch (SemaphoreFullException) { /* a wake-up is already pending */ }
        catch (ObjectDisposedException) { /* the service has stopped */ }
    }

    private async Task SleepAsync(TimeSpan sleep, CancellationToken stoppingToken)
    {
        if (sleep <= TimeSpan.Zero) return;
        using var sleeping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var woken = _wake.WaitAsync(sleeping.Token);
        var delay = Task.Delay(sleep, time, sleeping.Token);
        var first = await Task.WhenAny(woken, delay);
        sleeping.Cancel();
        try { await Task.WhenAll(woken, delay); } catch (OperationCanceledException) { }
        stoppingToken.ThrowIfCancellationRequested();
        if (first == woken) await Task.Delay(SettleDelay, time, stoppingToken);
    }

    /// <summary>One round: forget what left, drop what expired, fetch what is due; returns how long to sleep.</summary>
    internal async Task<TimeSpan> RunOnceAsync(CancellationToken cancellationToken)
    {
        var targets = Targets();
        stapling.RetainOnly(targets.Select(t => t.CertificateId).ToHashSet(StringComparer.Ordinal));
        var now = time.GetUtcNow();
        var due = new List<Target>();
        foreach (var target in targets)
        {
            var state = stapling.StateOf(target.CertificateId);
            if (state is null || state.Responder != target.Responder || state.IssuerId != target.IssuerId)
            {
                state = OcspState.New(target.Responder, target.IssuerId);
                stapling.Set(target.CertificateId, state);
            }
            if (state.Staple?.NextUpdate is { } next && next <= now)
            {
                stapling.Set(target.CertificateId, state with { Staple = null });
                LogExpired(logger, Hosting.LogText.Escape(target.CertificateId), next);
            }
            if (OcspSchedule.NextFetch(state, now) <= now) due.Add(target);
        }
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = ParallelFetches, CancellationToken = cancellationToken },
            async (target, token) => await FetchAsync(target, token));

        now = time.GetUtcNow();
        var wake = now + LongestSleep;
        foreach (var target in targets)
        {
            if (stapling.StateOf(target.CertificateId) is not { } state) continue;
            var at = OcspSchedule.NextFetch(state, now);
            if (state.Staple?.NextUpdate is { } expiry && expiry < at) at = expiry;
            if (at < wake) wake = at;
        }
        return wake - now;
    }

    private List<Target> Targets()
    {
        var byId = store.ListCertificates().ToDictionary(c => c.Id, StringComparer.Ordinal);
        var targets = new List<Target>();
        foreach (var entry in selector.Snapshot.Entries)
        {
            var certificate = entry.Certificate;
            if (!certificate.HasPrivateKey || certificate.Chain.Count < 2) continue;
            if (!byId.TryGetValue(certificate.Chain[1], out var issuer)) continue;
            if (Certificates.AuthorityInformationAccess.OcspResponder(certificate.Certificate) is not { } responder) continue;
            targets.Add(new Target(certificate.Id, certificate.Certificate, issuer.Id, issuer.Certificate, responder));
        }
        return targets;
    }

    private async Task FetchAsync(Target target, CancellationToken cancellationToken)
    {
        var before = stapling.StateOf(target.CertificateId) ?? OcspState.New(target.Responder, target.IssuerId);
        var attempt = time.GetUtcNow();
        try
        {
            var request = OcspExchange.BuildRequest(target.Leaf, target.Issuer);
            var answer = await PostAsync(target.Responder, request, cancellationToken);
            var response = OcspExchange.Verify(answer, target.Leaf, target.Issuer, time.GetUtcNow());
            stapling.Set(target.CertificateId, before with { Staple = response, Failures = 0, LastAttempt = attempt, LastError = null });
            if (before.Staple is null || before.Failures > 0) LogStapled(logger, Hosting.LogText.Escape(target.CertificateId), Hosting.LogText.Escape(target.Responder.AbsoluteUri), response.NextUpdate);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var failures = before.Failures + 1;
            stapling.Set(target.CertificateId, before with { Failures = failures, LastAttempt = attempt, LastError = e.Message });
            LogFetchFailed(logger, Hosting.LogText.Escape(target.CertificateId), Hosting.LogText.Escape(target.Responder.AbsoluteUri), Hosting.LogText.Escape(e.Message, 2048), OcspSchedule.Backoff(failures));
        }
    }

    private async Task<byte[]> PostAsync(Uri responder, byte[] request, CancellationToken cancellationToken)
    {
        // RFC 6960 A.1: POST with the DER request as the body.
        using var content = new ByteArrayContent(request);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        try
        {
            using var response = await _http.PostAsync(responder, content, cancellationToken);
            if (!response.IsSuccessStatusCode)
                throw new OcspException(OcspFailure.Transport, $"responder {responder} answered HTTP {(int)response.StatusCode}");
            return await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new OcspException(OcspFailure.Transport, $"responder {responder} unreachable: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OcspException(OcspFailure.Transport, $"responder {responder} did not answer within {FetchTimeout.TotalSeconds:0} s");
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        _wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = EventIds.Tls.OcspStapled, Level = LogLevel.Information, Message = "OCSP: certificate {CertificateId} is stapled with the answer of {Responder}, valid until {NextUpdate}")]
    private static partial void LogStapled(ILogger logger, string certificateId, string responder, DateTimeOffset? nextUpdate);

    [LoggerMessage(EventId = EventIds.Tls.OcspNoResponse, Level = LogLevel.Warning, Message = "OCSP: no response to staple for certificate {CertificateId} from {Responder}: {Reason}; asking again in {Retry}")]
    private static partial void LogFetchFailed(ILogger logger, string certificateId, string responder, string reason, TimeSpan retry);

    [LoggerMessage(EventId = EventIds.Tls.OcspStapleExpired, Level = LogLevel.Warning, Message = "OCSP: the stapled response of certificate {CertificateId} expired at {NextUpdate} and is no longer sent")]
    private static partial void LogExpired(ILogger logger, string certificateId, DateTimeOffset nextUpdate);

    [LoggerMessage(EventId = EventIds.Tls.OcspRoundFailed, Level = LogLevel.Error, Message = "OCSP: a stapling round failed; the next one starts in a minute")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
