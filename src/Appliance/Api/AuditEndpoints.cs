using System.Globalization;
using Appliance.Audit;
using Appliance.Edge;

namespace Appliance.Api;

/// <summary>GET /appliance/api/v1/audit?limit=100&amp;before=ID: the audit log, newest first; <c>next</c> is the <c>before</c> of the next page.</summary>
internal static class AuditEndpoints
{
    public const int MaxLimit = 1000;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/audit", (HttpContext context, AuditLog log) =>
        {
            // Parsed here, not bound: a malformed value is refused in words (the binder answers a bare 400).
            var take = 100;
            if (Query(context, "limit") is { } limitText && !int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out take))
                return Problem.Of(400, $"The limit '{limitText}' is not a whole number from 1 to {MaxLimit}: ask for 1 to {MaxLimit} entries per page.");
            long? before = null;
            if (Query(context, "before") is { } beforeText)
            {
                if (!long.TryParse(beforeText, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    return Problem.Of(400, $"The before value '{beforeText}' is not an entry id; give the next value of the previous page, or leave it out for the newest entries.");
                before = id;
            }
            if (take is < 1 or > MaxLimit)
                return Problem.Of(400, $"The limit {take} is out of range: ask for 1 to {MaxLimit} entries per page.");
            var entries = log.List(take + 1, before);
            var page = entries.Take(take).Select(AuditEntryDto.From).ToList();
            return Results.Json(new AuditPageDto(page, entries.Count > take ? page[^1].Id : null), ApiJson.Default.AuditPageDto);
        }).Produces<AuditPageDto>().WithSummary("The audit log, newest first (limit, and before an entry id for the next page)")
            .AddOpenApiOperationTransformer(ApiDocument.AuditQuery);
    }

    /// <summary>A query parameter given once (a repeated one is refused), echoed at most 100 characters long; null when absent.</summary>
    private static string? Query(HttpContext context, string name)
    {
        var values = context.Request.Query[name];
        if (values.Count == 0) return null;
        var text = values.ToString();
        return text.Length <= 100 ? text : text[..100] + "...";
    }
}
