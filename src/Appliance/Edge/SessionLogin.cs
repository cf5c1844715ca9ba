using Appliance.Accounts;
using Appliance.Audit;

namespace Appliance.Edge;

/// <summary>
/// Logging in, for the API (<c>POST session</c>) and the login page alike: over-long input is refused before the
/// username reaches the audit log, the client address feeds the login limits, and a successful login sets the
/// session cookie. A refusal is an <see cref="AccountException"/>; its Retry-After comes with the refusal (<see cref="RefusalMap"/>).
/// </summary>
internal static class SessionLogin
{
    public static async Task<Account> LogInAsync(HttpContext context, AccountStore accounts, string username, string password)
    {
        AccountStore.CheckLength("username", username);
        AccountStore.CheckLength("password", password);
        // The audit escapes and caps what it stores (Audit/SafeText.cs).
        AuditTrail.ActingAs(context, username);
        var (account, secret) = await accounts.LoginAsync(username, password, context.Connection.RemoteIpAddress, context.RequestAborted);
        AuditTrail.Done(context, "Logged in");
        context.Response.Cookies.Append(SessionCookie.Name, secret, SessionCookie.Options());
        return account;
    }
}
