namespace Appliance.Network;

/// <summary>
/// The cookies that belong to <c>/appliance</c> (the session, the anti-forgery token, the page notice: all named
/// <c>appliance_*</c>, possibly behind a <c>__Host-</c> or <c>__Secure-</c> prefix). The site shares the origin, so
/// a site's upstream could otherwise set them (session fixation, a forged anti-forgery pair) or read them.
/// </summary>
internal static class ApplianceCookies
{
    private const string NamePrefix = "appliance";
    private const string Path = "/appliance";

    /// <summary>
    /// True for a cookie name the appliance uses or might use. ASP.NET Core reads request cookies by name ignoring case,
    /// and browsers match the <c>__Host-</c>/<c>__Secure-</c> prefixes ignoring case (RFC 6265bis 4.1.3), so case is ignored.
    /// </summary>
    public static bool IsApplianceName(ReadOnlySpan<char> name)
    {
        name = name.Trim();
        if (name.StartsWith("__Host-", StringComparison.OrdinalIgnoreCase)) name = name["__Host-".Length..];
        else if (name.StartsWith("__Secure-", StringComparison.OrdinalIgnoreCase)) name = name["__Secure-".Length..];
        return name.StartsWith(NamePrefix, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// True when an upstream <c>Set-Cookie</c> must not reach the browser: it names an appliance cookie, or its Path
    /// is <c>/appliance</c> or under it (compared ignoring case and after percent-decoding, as Kestrel routes
    /// <c>/%61ppliance</c> and <c>/APPLIANCE</c> to the appliance).
    /// </summary>
    public static bool IsForAppliance(string setCookie)
    {
        var parts = setCookie.Split(';');
        // RFC 6265bis 5.6: a pair without '=' is a cookie with an empty name, sent back as the bare value, which
        // servers read as a name.
        var equals = parts[0].IndexOf('=');
        if (IsApplianceName(equals < 0 ? parts[0] : parts[0].AsSpan(0, equals))) return true;
        foreach (var attribute in parts.AsSpan(1))
        {
            var separator = attribute.IndexOf('=');
            if (separator < 0 || !attribute.AsSpan(0, separator).Trim().Equals("path", StringComparison.OrdinalIgnoreCase)) continue;
            if (IsAppliancePath(attribute[(separator + 1)..].Trim())) return true;
        }
        return false;
    }

    private static bool IsAppliancePath(string path)
    {
        string decoded;
        try
        {
            decoded = Uri.UnescapeDataString(path);
        }
        catch (UriFormatException)
        {
            decoded = path;
        }
        return decoded.Equals(Path, StringComparison.OrdinalIgnoreCase)
            || decoded.StartsWith(Path + "/", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A request's <c>Cookie</c> header without the appliance's cookies; null when none are left.</summary>
    public static string? WithoutApplianceCookies(IEnumerable<string?> cookieHeaders)
    {
        var kept = new List<string>();
        foreach (var header in cookieHeaders)
        {
            if (header is null) continue;
            foreach (var pair in header.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=');
                if (!IsApplianceName(equals < 0 ? pair : pair.AsSpan(0, equals))) kept.Add(pair);
            }
        }
        return kept.Count == 0 ? null : string.Join("; ", kept);
    }
}
