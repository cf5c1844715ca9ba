using System.Net;

namespace Appliance.Accounts;

/// <summary>Why a login attempt was refused before its password was checked, and when to try again.</summary>
internal sealed record LoginRefusal(string Message, TimeSpan RetryAfter);

/// <summary>
/// The limits a login attempt meets before its password is hashed (each check costs about 0.1 s of a core):
/// <list type="bullet">
/// <item>per client address, one attempt at a time: a flood from one address holds at most one place in the
/// <see cref="PasswordHashGate"/>'s queue, so an admin elsewhere waits behind at most one of its hashes;</item>
/// <item>per client address (<see cref="AddressGroup"/>), a token bucket of <see cref="AddressBurst"/> attempts
/// refilled by one every <see cref="AddressRefill"/>; a successful login gives its token back, so the bucket limits
/// guessing, not admins (or scripts, or a whole office behind one NAT address) who log in correctly;</item>
/// <item>per username and address, <see cref="MaxFailures"/> failures within <see cref="FailureWindow"/> refuse
/// that pair for the rest of the window. Failures from other addresses never refuse an address that has not failed,
/// so nobody can lock an admin out by failing on purpose.</item>
/// </list>
/// Both maps hold at most <see cref="MaxTracked"/> entries (the least recently touched dropped first) and forget an
/// entry once it no longer limits anything.
/// </summary>
internal sealed class LoginThrottle(TimeProvider time)
{
    public const int AddressBurst = 5;
    public static readonly TimeSpan AddressRefill = TimeSpan.FromSeconds(10);
    public const int MaxFailures = 5;
    public static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(5);
    public const int MaxTracked = 10_000;

    private readonly Lock _lock = new();
    // An untouched bucket is full again after AddressBurst * AddressRefill: then it is no different from a new one.
    private readonly ExpiringMap<AddressGroup, Bucket> _addresses = new(MaxTracked, Full, time);
    // Touched on failures only: an entry expires when its newest failure leaves the window.
    private readonly ExpiringMap<FailureKey, Queue<DateTimeOffset>> _failures = new(MaxTracked, FailureWindow, time);

    /// <summary>Client addresses (groups) whose bucket is not full.</summary>
    public int TrackedAddresses { get { lock (_lock) return _addresses.Count; } }

    /// <summary>Username and address pairs with failures in the window.</summary>
    public int TrackedFailures { get { lock (_lock) return _failures.Count; } }

    /// <summary>Takes one attempt from the address's bucket; null when the password may be checked.</summary>
    public LoginRefusal? Begin(string username, IPAddress? address)
    {
        var now = time.GetUtcNow();
        var group = AddressGroup.Of(address);
        lock (_lock)
        {
            if (_failures.TryGet(new FailureKey(Fold(username), group), out var failures))
            {
                while (failures.Count > 0 && now - failures.Peek() >= FailureWindow) failures.Dequeue();
                if (failures.Count >= MaxFailures)
                {
                    var wait = failures.Peek() + FailureWindow - now;
                    return new LoginRefusal(
                        $"Too many failed logins for this username from your address ({MaxFailures} within {FailureWindow.TotalMinutes:0} minutes); "
                        + $"try again in {Seconds(wait)} seconds. Other addresses are not affected.", wait);
                }
            }
            var bucket = _addresses.GetOrAdd(group, () => new Bucket(now));
            bucket.Refill(now);
            if (bucket.Checking)
                return new LoginRefusal("Another login from your address is being checked; try again in a second.", TimeSpan.FromSeconds(1));
            if (bucket.Tokens < AddressRefill)
            {
                var wait = AddressRefill - bucket.Tokens;
                return new LoginRefusal(
                    $"Too many login attempts from your address (at most {AddressBurst} at once, then one every {AddressRefill.TotalSeconds:0} seconds); "
                    + $"try again in {Seconds(wait)} seconds.", wait);
            }
            bucket.Tokens -= AddressRefill;
            bucket.Checking = true;
            return null;
        }
    }

    /// <summary>The password was right: the attempt's token goes back, and the pair's failures are forgotten.</summary>
    public void Succeeded(string username, IPAddress? address)
    {
        var group = AddressGroup.Of(address);
        lock (_lock)
        {
            End(group, giveBack: true);
            _failures.Remove(new FailureKey(Fold(username), group));
        }
    }

    /// <summary>The password was not checked after all (the appliance was too busy, the client went away): the token goes back.</summary>
    public void Abandoned(IPAddress? address)
    {
        lock (_lock) End(AddressGroup.Of(address), giveBack: true);
    }

    public void Failed(string username, IPAddress? address)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            End(AddressGroup.Of(address), giveBack: false);
            var failures = _failures.GetOrAdd(new FailureKey(Fold(username), AddressGroup.Of(address)), () => new Queue<DateTimeOffset>(MaxFailures));
            failures.Enqueue(now);
            while (failures.Count > MaxFailures) failures.Dequeue();
        }
    }

    /// <summary>Whole seconds to wait, at least 1 (for Retry-After and the message).</summary>
    public static int Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));

    /// <summary>Every <see cref="Begin"/> that returned null ends here, through one of the three outcomes.</summary>
    private void End(AddressGroup group, bool giveBack)
    {
        if (!_addresses.TryGet(group, out var bucket)) return;
        bucket.Checking = false;
        if (giveBack) bucket.Tokens = Min(Full, bucket.Tokens + AddressRefill);
    }

    // Usernames compare without case, as the accounts table does.
    private static string Fold(string username) => username.ToUpperInvariant();

    private readonly record struct FailureKey(string Username, AddressGroup Address);

    private static readonly TimeSpan Full = AddressRefill * AddressBurst;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>
    /// The attempts left, counted in refill time (one attempt = <see cref="AddressRefill"/>), so refilling is exact
    /// arithmetic on ticks.
    /// </summary>
    private sealed class Bucket(DateTimeOffset at)
    {
        public TimeSpan Tokens { get; set; } = Full;

        /// <summary>An attempt from this address is between <see cref="Begin"/> and its outcome.</summary>
        public bool Checking { get; set; }

        public void Refill(DateTimeOffset now)
        {
            if (now > at) Tokens = Min(Full, Tokens + (now - at));
            at = now;
        }
    }
}
