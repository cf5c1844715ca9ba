using Microsoft.AspNetCore.Routing.Patterns;

namespace Appliance.Api;

/// <summary>
/// The methods the API answers at a path, from the service's own endpoints: the API's fallback route answers
/// 405 with <c>Allow</c> (RFC 9110 section 15.5.6) for a known path and an unknown method (TRACE, OPTIONS, ...),
/// where routing alone would let the catch-all fallback answer 404.
/// </summary>
internal static class ApiMethods
{
    private static (RoutePattern Pattern, IReadOnlyList<string> Methods)[]? _routes;

    /// <summary>The methods of every API route whose pattern matches the path (the endpoints are fixed once the service runs).</summary>
    public static IReadOnlyList<string> At(EndpointDataSource endpoints, PathString path)
    {
        _routes ??= endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith(ApiEndpoints.Prefix, StringComparison.Ordinal) == true
                && e.Metadata.GetMetadata<IHttpMethodMetadata>() is { HttpMethods.Count: > 0 })
            .Select(e => (e.RoutePattern, e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods))
            .ToArray();
        var segments = (path.Value ?? "").Trim('/').Split('/');
        return _routes.Where(r => Matches(r.Pattern, segments)).SelectMany(r => r.Methods).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Literal segments match case-insensitively, a parameter segment matches any one segment.</summary>
    private static bool Matches(RoutePattern pattern, string[] segments)
    {
        if (pattern.PathSegments.Count != segments.Length) return false;
        for (var i = 0; i < segments.Length; i++)
        {
            var parts = pattern.PathSegments[i].Parts;
            if (parts.Count != 1) return false;
            var matched = parts[0] switch
            {
                RoutePatternLiteralPart literal => string.Equals(literal.Content, segments[i], StringComparison.OrdinalIgnoreCase),
                RoutePatternParameterPart { IsCatchAll: false } => segments[i].Length > 0,
                _ => false,
            };
            if (!matched) return false;
        }
        return true;
    }
}
