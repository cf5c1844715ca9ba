using Appliance.Accounts;

namespace Appliance.Api;

/// <summary>
/// Every /appliance route needs an authenticated admin (session cookie or bearer API token), except logging in.
/// An account still holding its one-time password may only change it (and log out).
/// </summary>
internal sealed class AuthenticationMiddleware(RequestDelegate next, AccountStore accounts)
{
    private const string AccountKey = "appliance.account";

    public static Account AccountOf(HttpContext context) => (Account)context.Items[AccountKey]!;

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/appliance") || IsAnonymous(context))
        {
            await next(context);
            return;
        }
        var account = Authenticate(context);
        if (account is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await ApiEndpoints.Problem(401, "Log in first: POST /appliance/api/v1/session with the username and password, or send 'Authorization: Bearer <API token>'.").ExecuteAsync(context);
            return;
        }
        if (account.MustChangePassword && !IsPasswordChange(context))
        {
            await ApiEndpoints.Problem(403, "Change the one-time password before anything else: PUT /appliance/api/v1/password with the current and a new password.").ExecuteAsync(context);
            return;
        }
        context.Items[AccountKey] = account;
        await next(context);
    }

    private Account? Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return accounts.FindToken(header["Bearer ".Length..].Trim());
        return context.Request.Cookies.TryGetValue(ApiEndpoints.SessionCookie, out var secret) ? accounts.FindSession(secret) : null;
    }

    private static bool IsAnonymous(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Equals(ApiEndpoints.Prefix + "/session", StringComparison.Ordinal);

    private static bool IsPasswordChange(HttpContext context) =>
        context.Request.Path.Equals(ApiEndpoints.Prefix + "/password", StringComparison.Ordinal)
        || (HttpMethods.IsDelete(context.Request.Method) && context.Request.Path.Equals(ApiEndpoints.Prefix + "/session", StringComparison.Ordinal));
}
