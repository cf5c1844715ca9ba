namespace Appliance.Edge;

/// <summary>The admin's session cookie, set by a login through the API or the login page and read by <see cref="AuthenticationMiddleware"/>.</summary>
internal static class SessionCookie
{
    /// <summary>
    /// <c>__Secure-</c> (RFC 6265bis 4.1.3.1: only a secure origin may set it) with Path=/appliance,
    /// not <c>__Host-</c>, which needs Path=/ and would send the admin's session to the site's upstream.
    /// </summary>
    public const string Name = "__Secure-appliance_session";

    public static CookieOptions Options() => new()
    {
        HttpOnly = true,
        Secure = true, // /appliance is served over HTTPS only (plain HTTP is redirected)
        SameSite = SameSiteMode.Strict,
        Path = EdgePaths.Root,
    };

    /// <summary>Ends the request's session (if it has one) and deletes the cookie: signing out, from the API or the pages.</summary>
    public static void SignOut(HttpContext context, Accounts.AccountStore accounts)
    {
        if (context.Request.Cookies.TryGetValue(Name, out var secret)) accounts.Logout(secret);
        context.Response.Cookies.Delete(Name, Options());
    }
}
