using System.Globalization;

namespace Appliance.Acme.Renewal;

/// <summary>The status the admin sees for an automated certificate (DESIGN.md: pending|valid|renewing|error).</summary>
public enum AutomatedCertificateStatus { Pending, Valid, Renewing, Error }

public enum RenewalAction
{
    /// <summary>Nothing to do before <see cref="RenewalDecision.NextCheck"/>.</summary>
    Wait,
    /// <summary>Order a certificate now.</summary>
    Renew,
}

/// <summary>One issuance attempt: when, whether it worked, and for a failure the words, the ACME problem type and the server's Retry-After.</summary>
public sealed record RenewalAttempt(DateTimeOffset At, bool Succeeded, string? Error = null, string? ProblemType = null, DateTimeOffset? RetryNotBefore = null);

/// <summary>What the policy needs to remember: the attempts (newest last) and when the last alert went out.</summary>
public sealed record RenewalHistory(IReadOnlyList<RenewalAttempt> Attempts, DateTimeOffset? LastAlertAt)
{
    public static readonly RenewalHistory Empty = new([], null);

    /// <summary>The failures since the last success, newest last.</summary>
    public IReadOnlyList<RenewalAttempt> ConsecutiveFailures =>
        Attempts.Reverse().TakeWhile(a => !a.Succeeded).Reverse().ToList();

    public RenewalHistory With(RenewalAttempt attempt, int keep = 20) =>
        this with { Attempts = Attempts.Append(attempt).TakeLast(keep).ToList() };
}

/// <summary>The decision and why, in words the admin can read.</summary>
public sealed record RenewalDecision(RenewalAction Action, AutomatedCertificateStatus Status, DateTimeOffset NextCheck, bool AlertDue, string Reason)
{
    /// <summary>When renewal starts (or started); shown as renewAfter.</summary>
    public DateTimeOffset? RenewAfter { get; init; }
}

/// <summary>
/// When to renew an automated certificate, as the seed promises: from 30 days before expiry (for certificates
/// shorter than 90 days, when one third of the lifetime is left); retries back off exponentially and never before a
/// rate limit's Retry-After; still not renewed 25 days before expiry (proportionally for short certificates) is the
/// error state with a daily alert. An RFC 9773 suggested window, when the CA offers one, sets the renewal time.
/// A pure function of its inputs: time is an argument (certmagic's NeedsRenewal, without its clock).
/// </summary>
public static class RenewalPolicy
{
    public static readonly TimeSpan RenewBeforeExpiry = TimeSpan.FromDays(30);
    public static readonly TimeSpan ErrorBeforeExpiry = TimeSpan.FromDays(25);
    public static readonly TimeSpan ShortLifetime = TimeSpan.FromDays(90);
    public static readonly TimeSpan AlertInterval = TimeSpan.FromDays(1);
    public static readonly TimeSpan FirstRetry = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan MaxRetry = TimeSpan.FromHours(12);
    /// <summary>How often renewal information is fetched again when the CA gives no Retry-After (RFC 9773 section 4.3 suggests hours).</summary>
    public static readonly TimeSpan DefaultRenewalInfoRefresh = TimeSpan.FromHours(6);

    /// <param name="notBefore">Validity start of the current certificate; null while none was issued yet.</param>
    /// <param name="notAfter">Expiry of the current certificate; null while none was issued yet.</param>
    /// <param name="force">The admin asked to renew now: the window and the backoff are skipped, a rate limit's Retry-After is not.</param>
    public static RenewalDecision Decide(DateTimeOffset? notBefore, DateTimeOffset? notAfter, DateTimeOffset now, RenewalHistory history,
        RenewalInfo? renewalInfo = null, bool force = false)
    {
        var failures = history.ConsecutiveFailures;
        var (retryAt, retryReason) = RetryTime(failures, force);

        if (notBefore is not { } start || notAfter is not { } end)
        {
            if (failures.Count == 0)
                return new RenewalDecision(RenewalAction.Renew, AutomatedCertificateStatus.Pending, now, false, "No certificate was issued yet; ordering one.");
            return retryAt > now
                ? new RenewalDecision(RenewalAction.Wait, AutomatedCertificateStatus.Error, retryAt, false, retryReason)
                : new RenewalDecision(RenewalAction.Renew, AutomatedCertificateStatus.Error, now, false, $"No certificate was issued yet; trying again after {Attempts(failures.Count)}.");
        }

        var lifetime = end - start;
        var isShort = lifetime < ShortLifetime;
        var renewAt = isShort ? end - lifetime / 3 : end - RenewBeforeExpiry;
        // Short certificates reach the error state at the same share of the renewal window as 25 of 30 days.
        var errorAt = isShort ? end - lifetime / 3 * 5 / 6 : end - ErrorBeforeExpiry;
        var renewWhy = isShort
            ? $"one third of its {lifetime.TotalDays:0.#}-day lifetime before expiry"
            : $"{RenewBeforeExpiry.TotalDays:0} days before expiry";

        var movedEarlier = false;
        var nextCheck = DateTimeOffset.MaxValue;
        if (renewalInfo is not null)
        {
            // RFC 9773 section 4.2: renew within the suggested window; a window that ends before our own schedule
            // means the CA wants the certificate replaced early (e.g. revocation), which the admins are told about.
            movedEarlier = renewalInfo.SuggestedWindow.End < renewAt;
            renewAt = renewalInfo.SuggestedWindow.Start;
            renewWhy = movedEarlier
                ? $"the CA moved its renewal window earlier, to {Day(renewalInfo.SuggestedWindow.Start)}–{Day(renewalInfo.SuggestedWindow.End)}"
                : $"the CA's suggested renewal window {Day(renewalInfo.SuggestedWindow.Start)}–{Day(renewalInfo.SuggestedWindow.End)}";
            nextCheck = renewalInfo.FetchedAt + (renewalInfo.RetryAfter ?? DefaultRenewalInfoRefresh);
        }

        if (now < renewAt && !force)
        {
            var wake = renewAt < nextCheck ? renewAt : nextCheck;
            return new RenewalDecision(RenewalAction.Wait, AutomatedCertificateStatus.Valid, wake, false,
                $"Valid until {Day(end)}; renews from {Day(renewAt)} ({renewWhy}).") { RenewAfter = renewAt };
        }

        var status = now >= errorAt ? AutomatedCertificateStatus.Error : now < renewAt ? AutomatedCertificateStatus.Valid : AutomatedCertificateStatus.Renewing;
        var alertDue = (status == AutomatedCertificateStatus.Error || movedEarlier)
                       && (history.LastAlertAt is not { } alerted || now - alerted >= AlertInterval);
        var left = end - now;
        var state = now >= end
            ? $"Expired on {Day(end)} and not renewed"
            : status == AutomatedCertificateStatus.Error
                ? $"Not renewed {left.TotalDays:0} days before expiry on {Day(end)}"
                : $"Renewing: {renewWhy}";
        if (retryAt > now)
            return new RenewalDecision(RenewalAction.Wait, status, retryAt, alertDue, $"{state}; {retryReason}") { RenewAfter = renewAt };
        return new RenewalDecision(RenewalAction.Renew, status, now, alertDue,
            force ? $"{state}; renewal requested by the admin." : $"{state}; ordering a new certificate.") { RenewAfter = renewAt };
    }

    /// <summary>The earliest next attempt after failures: exponential backoff (unless forced), never before a server's Retry-After.</summary>
    private static (DateTimeOffset At, string Reason) RetryTime(IReadOnlyList<RenewalAttempt> failures, bool force)
    {
        if (failures.Count == 0) return (DateTimeOffset.MinValue, "");
        var last = failures[^1];
        var backoff = force ? DateTimeOffset.MinValue : last.At + Backoff(failures.Count);
        if (last.RetryNotBefore is { } limit && limit > backoff)
            return (limit, $"the CA asked to wait (rate limit) until {Time(limit)}.");
        return (backoff, $"{Attempts(failures.Count)} failed; next try at {Time(backoff)}.");
    }

    /// <summary>10 minutes after the first failure, doubling, at most 12 hours.</summary>
    public static TimeSpan Backoff(int consecutiveFailures)
    {
        var factor = Math.Pow(2, Math.Min(consecutiveFailures - 1, 16));
        var wait = FirstRetry * factor;
        return wait > MaxRetry ? MaxRetry : wait;
    }

    private static string Attempts(int count) => count == 1 ? "1 attempt" : $"{count} attempts";

    private static string Day(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
