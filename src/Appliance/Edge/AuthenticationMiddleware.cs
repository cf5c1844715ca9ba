using System.Security.Claims;
using Appliance.Accounts;

namespace Appliance.Edge;

/// <summary>
/// Every /appliance route needs an authenticated admin (session cookie or bearer API token), except logging in
/// (API and login page) and the stylesheet. Without one the API answers 401 and the pages redirect to the login page.
/// An account still holding its one-time password may only change it (and log out).
/// The admin also becomes <see cref="HttpContext.User"/>, an authenticated identity whose <c>sub</c> names the
/// session (or API token): ASP.NET's anti-forgery binds the tokens of a form to it, so a token taken from another
/// admin's session, or from the anonymous login page, is refused on this one.
/// </summary>
internal sealed class AuthenticationMiddleware(RequestDelegate next, AccountStore accounts)
{
    private const string AccountKey = "appliance.account";
    private const string SessionKey = "appliance.session";
    private const string AuthenticationType = "appliance";

    public static Account AccountOf(HttpContext context) => (Account)context.Items[AccountKey]!;

    /// <summary>The secret of the session cookie that authenticated this request; null for an API token.</summary>
    public static string? SessionSecretOf(HttpContext context) => context.Items.TryGetValue(SessionKey, out var secret) ? secret as string : null;

    /// <summary>The authenticated account, or null on anonymous routes (the login page).</summary>
    public static Account? TryAccountOf(HttpContext context) => context.Items.TryGetValue(AccountKey, out var account) ? account as Account : null;

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/appliance") || IsAnonymous(context))
        {
            await next(context);
            return;
        }
        var (account, credential) = Authenticate(context);
        var isPage = !EdgePaths.IsApi(path);
        if (isPage && IsLoginPage(context))
        {
            // The login page is anonymous; it only needs to know whether someone is already logged in.
            if (account is not null) context.Items[AccountKey] = account;
            await next(context);
            return;
        }
        if (account is null && isPage)
        {
            Audit.AuditTrail.Refused(context, "Nobody is signed in: the browser was sent to the login page.");
            var back = HttpMethods.IsGet(context.Request.Method) ? context.Request.Path + context.Request.QueryString : "";
            context.Response.Redirect(EdgePaths.Login + (back.Length > 0 ? "?returnUrl=" + Uri.EscapeDataString(back) : ""));
            return;
        }
        if (account is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Problem.Of(401, "Log in first: POST /appliance/api/v1/session with the username and password, or send 'Authorization: Bearer <API token>'.").ExecuteAsync(context);
            return;
        }
        if (account.MustChangePassword && !IsPasswordChange(context))
        {
            Audit.AuditTrail.ActingAs(context, account.Username);
            Audit.AuditTrail.Refused(context, "The one-time password must be changed first.");
        }
        if (account.MustChangePassword && isPage && !IsPasswordChange(context))
        {
            context.Response.Redirect(EdgePaths.Password);
            return;
        }
        if (account.MustChangePassword && !IsPasswordChange(context))
        {
            await Problem.Of(403, "Change the one-time password before anything else: PUT /appliance/api/v1/password with the current and a new password.").ExecuteAsync(context);
            return;
        }
        context.Items[AccountKey] = account;
        context.User = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, account.Username), new Claim("sub", credential!)], AuthenticationType));
        await next(context);
    }

    /// <summary>The account, and a stable non-secret name of the session or token that authenticated it.</summary>
    private (Account? Account, string? Credential) Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = header["Bearer ".Length..].Trim();
            return (accounts.FindToken(token), "token:" + AccountStore.SecretId(token));
        }
        if (!context.Request.Cookies.TryGetValue(SessionCookie.Name, out var secret)) return (null, null);
        var account = accounts.FindSession(secret);
        if (account is not null) context.Items[SessionKey] = secret;
        return (account, "session:" + AccountStore.SecretId(secret));
    }

    private static bool IsAnonymous(HttpContext context) =>
        (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Equals(EdgePaths.ApiSession, StringComparison.Ordinal))
        || (HttpMethods.IsGet(context.Request.Method) && context.Request.Path.Equals(EdgePaths.Stylesheet, StringComparison.Ordinal));

    private static bool IsLoginPage(HttpContext context) => context.Request.Path.Equals(EdgePaths.Login, StringComparison.Ordinal);

    private static bool IsPasswordChange(HttpContext context) =>
        context.Request.Path.Equals(EdgePaths.ApiPassword, StringComparison.Ordinal)
        || context.Request.Path.Equals(EdgePaths.Password, StringComparison.Ordinal)
        || context.Request.Path.Equals(EdgePaths.Logout, StringComparison.Ordinal)
        || (HttpMethods.IsDelete(context.Request.Method) && context.Request.Path.Equals(EdgePaths.ApiSession, StringComparison.Ordinal));
}
