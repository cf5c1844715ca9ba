using Appliance.Audit;

namespace Appliance.Api;

/// <summary>GET /appliance/api/v1/audit?limit=100&amp;before=ID: the audit log, newest first; <c>next</c> is the <c>before</c> of the next page.</summary>
internal static class AuditEndpoints
{
    public const int MaxLimit = 1000;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/audit", (AuditLog log, int? limit, long? before) =>
        {
            var take = limit ?? 100;
            if (take is < 1 or > MaxLimit)
                return ApiEndpoints.Problem(400, $"The limit {take} is out of range: ask for 1 to {MaxLimit} entries per page.");
            var entries = log.List(take + 1, before);
            var page = entries.Take(take).Select(AuditEntryDto.From).ToList();
            return Results.Json(new AuditPageDto(page, entries.Count > take ? page[^1].Id : null), ApiJson.Default.AuditPageDto);
        }).Produces<AuditPageDto>().WithSummary("The audit log, newest first (limit, and before an entry id for the next page)");
    }
}
