namespace Appliance.Accounts;

/// <summary>Why an account operation was refused; the HTTP edge gives each its status (Edge/RefusalMap.cs).</summary>
internal enum AccountFailure
{
    /// <summary>A username, password or token name that cannot be used, or a confirmation that differs.</summary>
    Invalid,
    /// <summary>The username or password is wrong (a login).</summary>
    WrongCredentials,
    /// <summary>No such admin.</summary>
    NotFound,
    /// <summary>The change contradicts the accounts as they are: a taken username, the last admin, one's own reset.</summary>
    Conflict,
    /// <summary>Too many logins: the login limits ask the client to wait (<see cref="AccountException.RetryAfter"/>).</summary>
    Throttled,
}

/// <summary>A refused account operation; the message says what failed and what to do.</summary>
internal sealed class AccountException(AccountFailure reason, string message) : Exception(message)
{
    public AccountFailure Reason { get; } = reason;

    /// <summary>For <see cref="AccountFailure.Throttled"/>: when the client may try again (the Retry-After header).</summary>
    public TimeSpan? RetryAfter { get; init; }
}
