using System.Threading.RateLimiting;

namespace Appliance.Accounts;

/// <summary>
/// At most <see cref="Permits"/> password hashes run at once (PBKDF2 costs about 0.1 s of a core each); the rest
/// wait, asynchronously and in order, up to <see cref="MaxWait"/>, then are refused with 429. One core is left to
/// TLS and the site on boxes with more than one: terminating the site's TLS is the appliance's first job, and a
/// login flood must not take every core from it.
/// </summary>
internal sealed class PasswordHashGate : IDisposable
{
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);
    private readonly ConcurrencyLimiter _limiter;

    public PasswordHashGate(int permits)
    {
        Permits = permits;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = permits,
            // More could not be served within MaxWait anyway (at about 0.1 s per hash).
            QueueLimit = permits * 20,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public static int DefaultPermits => Math.Max(1, Environment.ProcessorCount - 1);

    public int Permits { get; }

    /// <summary>Runs <paramref name="hash"/> once a permit is free; throws a 429 <see cref="AccountException"/> after <see cref="MaxWait"/>.</summary>
    public async Task<T> RunAsync<T>(Func<T> hash, CancellationToken aborted)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        wait.CancelAfter(MaxWait);
        RateLimitLease lease;
        try
        {
            lease = await _limiter.AcquireAsync(1, wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            throw Busy();
        }
        using (lease)
        {
            if (!lease.IsAcquired) throw Busy();
            return hash();
        }
    }

    private static AccountException Busy() => new(AccountFailure.Throttled,
        $"The appliance is busy checking other logins; try again in {MaxWait.TotalSeconds:0} seconds.") { RetryAfter = MaxWait };

    public void Dispose() => _limiter.Dispose();
}
