using Appliance.Accounts;
using Appliance.Audit;

namespace Appliance.Api;

/// <summary>
/// Logging in, for the API (<c>POST session</c>) and the login page alike: over-long input is refused before the
/// username reaches the audit log, the client address feeds the login limits, a 429 carries Retry-After, and a
/// successful login sets the session cookie.
/// </summary>
internal static class SessionLogin
{
    public static async Task<Account> LogInAsync(HttpContext context, AccountStore accounts, string username, string password)
    {
        try
        {
            AccountStore.CheckLength("username", username);
            AccountStore.CheckLength("password", password);
            // The audit escapes and caps what it stores (Audit/SafeText.cs).
            AuditTrail.ActingAs(context, username);
            var (account, secret) = await accounts.LoginAsync(username, password, context.Connection.RemoteIpAddress, context.RequestAborted);
            AuditTrail.Done(context, "Logged in");
            context.Response.Cookies.Append(ApiEndpoints.SessionCookie, secret, ApiEndpoints.SessionCookieOptions(context));
            return account;
        }
        catch (AccountException e) when (e.RetryAfter is { } wait)
        {
            context.Response.Headers.RetryAfter = LoginThrottle.RetryAfterHeader(wait);
            throw;
        }
    }
}
