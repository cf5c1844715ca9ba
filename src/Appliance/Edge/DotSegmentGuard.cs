using Microsoft.AspNetCore.Http.Features;

namespace Appliance.Edge;

/// <summary>
/// Refuses an API request whose raw target holds a dot segment: Kestrel removes them (RFC 3986 section 5.2.4) before
/// routing, so <c>certificates/.</c> would otherwise answer the list where the document promises one certificate.
/// </summary>
internal sealed class DotSegmentGuard(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context) =>
        EdgePaths.IsApi(context.Request.Path) && Refusal(context) is { } refused
            ? throw new RequestException(RequestFailure.Invalid, refused)
            : next(context);

    /// <summary>The words for a dot segment in the raw target; null when it has none.</summary>
    public static string? Refusal(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        var path = raw.AsSpan();
        var query = path.IndexOfAny('?', '#');
        if (query >= 0) path = path[..query];
        if (!path.StartsWith("/"))
        {
            // Absolute form (RFC 9112 section 3.2.2): the path starts after the authority.
            var scheme = path.IndexOf("://");
            if (scheme < 0) return null;
            path = path[(scheme + 3)..];
            var slash = path.IndexOf('/');
            path = slash < 0 ? [] : path[slash..];
        }
        foreach (var range in path.Split('/'))
        {
            var segment = path[range];
            if (segment.Length is 0 or > 9) continue;
            var decoded = Uri.UnescapeDataString(segment.ToString());
            if (decoded is "." or "..")
                return $"The path {StatusDetails.LimitedPath(raw)} holds the segment '{decoded}'; send the path without '.' or '..' segments (an id is never '.' or '..').";
        }
        return null;
    }
}
