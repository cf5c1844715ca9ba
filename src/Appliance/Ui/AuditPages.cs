using Appliance.Audit;
using Appliance.Ui.Slices;

namespace Appliance.Ui;

/// <summary>Audit log: the recorded changes newest first, <see cref="PageSize"/> per page ("Older entries" pages back by entry id).</summary>
internal static class AuditPages
{
    public const int PageSize = 100;

    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapGet("/audit", IResult (HttpContext context, PageFrame frame, AuditLog log, long? before) =>
        {
            var entries = log.List(PageSize + 1, before);
            var page = entries.Take(PageSize).ToList();
            return AuditView.Create(new AuditPage(frame.Build(context, "Audit log", "audit", "changes"), page,
                entries.Count > PageSize ? page[^1].Id : null, before is null, log.Count()));
        });
    }
}
