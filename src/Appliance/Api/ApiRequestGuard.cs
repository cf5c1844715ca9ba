using Microsoft.AspNetCore.Http.Features;

namespace Appliance.Api;

/// <summary>
/// What the API refuses before routing, and the words for answers the framework gives as a bare status code
/// (route and query binding, Kestrel's limits): every API refusal is a problem document that says what to do.
/// </summary>
internal static class ApiRequestGuard
{
    /// <summary>
    /// Dot segments are refused: Kestrel removes them (RFC 3986 section 5.2.4) before routing, so
    /// <c>certificates/.</c> would otherwise answer the list where the document promises one certificate.
    /// </summary>
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
                return $"The path {LimitedPath(raw)} holds the segment '{decoded}'; send the path without '.' or '..' segments (an id is never '.' or '..').";
        }
        return null;
    }

    /// <summary>Whether the request is the certificate import, the one API route that takes more than a JSON body's size.</summary>
    public static bool IsUpload(HttpContext context) =>
        context.Request.Path.Equals(ApiEndpoints.Prefix + "/certificates/import", StringComparison.Ordinal);

    /// <summary>The detail for a status the framework set without a body.</summary>
    public static string DetailFor(int status, HttpContext context) => status switch
    {
        400 => $"The request to {context.Request.Method} {LimitedPath(context.Request.Path.Value)} could not be read: a route value, query "
            + $"parameter or header is malformed. Check it against the OpenAPI document at {ApiEndpoints.OpenApiDocument}.",
        404 => $"There is no API route {context.Request.Method} {LimitedPath(context.Request.Path.Value)}; the OpenAPI document at {ApiEndpoints.OpenApiDocument} lists them.",
        405 => $"{context.Request.Method} is not answered at {LimitedPath(context.Request.Path.Value)}; use one of the methods in the Allow header.",
        413 => IsUpload(context)
            ? $"The upload is larger than the {ApiEndpoints.MaxImportBytes / (1024 * 1024)} MB accepted; import fewer or smaller files at a time."
            : $"The request body is larger than the {ApiEndpoints.MaxJsonBytes / 1024} KiB accepted here; send a smaller JSON body.",
        415 => "Send the request body as JSON with 'Content-Type: application/json'.",
        _ => $"The request was refused with status {status}; check it against the OpenAPI document at {ApiEndpoints.OpenApiDocument}.",
    };

    /// <summary>A path as echoed in a detail: at most 200 characters.</summary>
    private static string LimitedPath(string? path) => path is null ? "" : path.Length <= 200 ? path : path[..200] + "...";
}
